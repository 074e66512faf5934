// The therapist ends the appointment's meeting in Jitsi now. Recorded on the trail either way.
import { appointmentOfMember } from '#lib/appointments';
import { SETTINGS } from '#lib/config';
import type { Deps } from '#lib/deps';
import { endMeeting } from '#lib/end-meeting';
import { UnavailableError } from '#lib/errors';
import { createApiHandler } from '#lib/http/api-handler';
import { HttpProblem } from '#lib/problem';
import { resourceRequester } from '#lib/policy';
import { ROUTES } from '#lib/routes';

export function createEndMeetingHandler(deps: Deps) {
  return createApiHandler(ROUTES.endMeeting, deps, async ({ input, caller, requestId }) => {
    const asking = { actor: resourceRequester(caller, input.userId), requestId };
    const { appointment } = await appointmentOfMember(deps, input.appointmentId, asking, 'therapist');
    const result = await endMeeting(deps, appointment.appointmentId, asking, 'therapist');
    if (result.outcome === 'not-configured') {
      throw new HttpProblem('not-configured', 'This deployment does not end meetings in Jitsi', { detail: `${SETTINGS.endMeetingUrl.variable} is not set.` });
    }
    if (result.outcome === 'failed') throw new UnavailableError('jitsi', 'Jitsi did not end the meeting; the attempt is on the trail. Retry shortly.');
    return { body: { appointmentId: appointment.appointmentId, outcome: result.outcome, attempts: result.attempts } };
  });
}
