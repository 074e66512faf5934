// Who came to an appointment's session, for its therapist and client: ids and times as Jitsi
// reported them, and the status the documented rules derive (lib/attendance.ts).
import { appointmentOfMember } from '#lib/appointments';
import type { Deps } from '#lib/deps';
import { createApiHandler } from '#lib/http/api-handler';
import { attendanceOf } from '#lib/jitsi-events';
import { resourceRequester } from '#lib/policy';
import { ROUTES } from '#lib/routes';
import { isoFromSeconds } from '#lib/token';

const withIsoTimes = <T extends { firstJoinAt: number | undefined; lastLeaveAt: number | undefined; secondsPresent: number }>({
  firstJoinAt,
  lastLeaveAt,
  secondsPresent: _,
  ...rest
}: T) => ({
  ...rest,
  ...(firstJoinAt === undefined ? {} : { firstJoinAt: isoFromSeconds(firstJoinAt) }),
  ...(lastLeaveAt === undefined ? {} : { lastLeaveAt: isoFromSeconds(lastLeaveAt) }),
});

export function createAppointmentAttendanceHandler(deps: Deps) {
  return createApiHandler(ROUTES.attendance, deps, async ({ input, caller, requestId }) => {
    const { appointment, role } = await appointmentOfMember(deps, input.appointmentId, { actor: resourceRequester(caller, input.userId), requestId }, 'member');
    const attendance = await attendanceOf(deps, appointment);
    return {
      body: {
        appointmentId: appointment.appointmentId,
        status: attendance.status,
        therapist: withIsoTimes(attendance.therapist),
        client: withIsoTimes(attendance.client),
        bothPresentMinutes: attendance.bothPresentMinutes,
        // Who else came is the therapist's to know: the client sees that someone did, not their id.
        others: attendance.others.map((other) => withIsoTimes({ ...other, userId: role === 'therapist' ? other.userId : null })),
      },
    };
  });
}
