// Date-times the API must refuse as malformed: no offset, impossible dates and times, offsets
// past ±14:00, epoch numbers, words, a space for the T. The parser's unit test and the HTTP
// corpus both use this one list.
export const MALFORMED_DATE_TIMES: readonly string[] = [
  '2026-11-14T10:00:00',
  '2026-11-14',
  '2026-02-30T10:00:00Z',
  '2025-02-29T10:00:00Z',
  '2026-13-01T00:00:00Z',
  '2026-11-14T24:00:00Z',
  '2026-11-14T10:60:00Z',
  '2026-11-14T10:00:60Z',
  '2026-11-14T10:00:00+15:00',
  '2026-11-14T10:00:00+25:00',
  '1699999999',
  'tomorrow',
  '2026-11-14 10:00:00Z',
];
