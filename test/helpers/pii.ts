// What must never appear in a log line: the test secrets, the names and emails the tests send,
// and anything shaped like a JWT.
export const SECRETS_USED_IN_TESTS = [
  'handler-test-app-secret-handler-test-app-secret',
  'secrets-manager-test-secret-0123456789-abcdef',
  'bundle-test-secret-bundle-test-secret-0123456789',
  'sam-local-only-secret-replace-me-0123456789abcdef',
  'events-test-key-events-test-key-events-test-key-0123',
  'webhook-signing-value-webhook-signing-value-0123',
  'sam-local-only-events-key-replace-me-0123456789abcdef',
];
export const NAMES_USED_IN_TESTS = [
  'Test User',
  'Dr. Sarah Johnson',
  'Sarah Johnson',
  'Ada Lovelace',
  'Dr. Therapist Example',
  'Client Example',
  'Grace',
  'Alex',
  'From Body',
  'Given Family',
  'Harriet Therapist',
  'Oscar Client',
  'Uninvited Guest',
];
export const EMAIL_PATTERN = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/;
export const JWT_PATTERN = /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/;
