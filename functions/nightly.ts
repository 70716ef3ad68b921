// Cron trigger (Lambda style: an EventBridge-like Scheduled Event).
//   faas deploy functions/nightly.ts --schedule "0 3 * * *" --timezone Europe/Paris
interface ScheduledEvent {
  'detail-type': 'Scheduled Event';
  time: string;
  resources: string[];
}

export const handler = async (event: ScheduledEvent) => {
  console.log(`nightly run for the tick at ${event.time} (${event.resources.join(', ')})`);
  return { ranFor: event.time };
};
