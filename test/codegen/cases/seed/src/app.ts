// Application code as a user writes it: builders from the generated module, workflows from koban.
import { workflow } from 'koban';
import {
  AuditWorker,
  DigestWorker,
  EmailBatchWorker,
  ExtractWorker,
  ExtraWorker,
  FetchWorker,
  ImportWorker,
  LoadWorker,
  MergeWorker,
  ResizeWorker,
  SensitiveWorker,
  StepA,
  StepB,
  StepC,
  TransformWorker,
} from './koban.gen.js';

export const importJob = ImportWorker.new({ importId: 1 });
export const auditJob = AuditWorker.new({ userId: 'user-1', action: 'update' });
export const digestJob = DigestWorker.new({ userId: 7, type: 'daily' }, { unique: { keys: ['userId'] } });
export const sensitiveJob = SensitiveWorker.new({ ssn: '000', userId: 7 }, { meta: { userId: 7 } });

export const pipeline = workflow()
  .add('extract', ExtractWorker.new({ dataId: 1 }))
  .add('transform', TransformWorker.new({}), { deps: ['extract'] })
  .add('load', LoadWorker.new({}), { deps: ['transform'] });

export const fanOut = workflow()
  .add('fetch', FetchWorker.new({ url: 'https://example.com/a.png' }))
  .add('resize_sm', ResizeWorker.new({ size: 'small' }), { deps: ['fetch'] })
  .add('resize_md', ResizeWorker.new({ size: 'medium' }), { deps: ['fetch'] })
  .add('resize_lg', ResizeWorker.new({ size: 'large' }), { deps: ['fetch'] });

export const fanIn = workflow()
  .add('step_a', StepA.new({}))
  .add('step_b', StepB.new({}))
  .add('step_c', StepC.new({}))
  .add('merge', MergeWorker.new({}), { deps: ['step_a', 'step_b', 'step_c'] });

export const appended = pipeline.add('extra', ExtraWorker.new({}), { deps: ['transform'] });

export const emails = ['a@example.com', 'b@example.com'].map((email) =>
  EmailBatchWorker.new({ email, batchId: 'batch-1' }),
);

// Mistakes the compiler must catch. Each line below fails to compile without its directive.
// @ts-expect-error importId is a number
ImportWorker.new({ importId: '1' });
// @ts-expect-error unique keys name args keys only
DigestWorker.new({ userId: 7, type: 'daily' }, { unique: { keys: ['email'] } });
// @ts-expect-error size is small, medium or large
ResizeWorker.new({ size: 'huge' });
// @ts-expect-error a dep must name a step added before
pipeline.add('report', LoadWorker.new({}), { deps: ['transfrom'] });
// @ts-expect-error step names are unique within a workflow
pipeline.add('extract', ExtractWorker.new({ dataId: 2 }));
