import * as koban from 'koban';

export type Notification =
  | { kind: 'email'; to: string; subject: string }
  | { kind: 'sms'; phone: string; country?: string }
  | { kind: 'push'; deviceIds: string[] };

@koban.Worker({ queue: 'notify', priority: 1, tags: ['messaging'] })
export class NotifyWorker {
  async process(job: koban.Job<Notification>): Promise<void> {
    console.log(job.args.kind);
  }
}
