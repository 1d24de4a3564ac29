import { type Job, Worker as KobanWorker, Recorded } from 'koban';
import type { Channel, Customer, Priority } from './customer';

type LineItem = {
  sku: string;
  quantity: number;
  note?: string | null;
};

export interface OrderArgs {
  orderId: string;
  items: LineItem[];
  customer: Customer;
  placedAt: Date;
  amount: bigint;
  tags: readonly string[];
  attributes: Record<string, string>;
  priority: Priority;
  channel: Channel;
  status: 'new' | 'paid';
  point: [number, number];
  coupon?: string;
  delivery: { url: string } | { pickupAt: Date };
}

@KobanWorker({ queue: 'orders', unique: { period: 300, keys: ['orderId'] } })
@Recorded()
export class OrderWorker {
  async process(job: Job<OrderArgs>): Promise<{ invoice: { id: string; total: bigint; issuedAt: Date } }> {
    return { invoice: { id: job.args.orderId, total: job.args.amount, issuedAt: job.args.placedAt } };
  }
}
