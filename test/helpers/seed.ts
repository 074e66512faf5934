// The seed web app's own generate-token request (JITSI_BACKEND_SETUP's example), which must keep working.
export const SEED_GENERATE_TOKEN_REQUEST = Object.freeze({
  roomName: 'ataraxia-12345-1699999999999',
  userName: 'Dr. Sarah Johnson',
  userEmail: 'sarah.johnson@example.com',
  userId: 'therapist-123',
  isModerator: true,
  appointmentId: 'appt-456',
  expiresIn: 7200,
});
