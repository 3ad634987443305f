import { postingTaskQueue } from '../../workflows/ids';

/** A visibility filter for every workflow of one deployment's task queue, the journal poster's posting queue included. */
export const onDeploymentQueues = (taskQueue: string) => `(TaskQueue = '${taskQueue}' OR TaskQueue = '${postingTaskQueue(taskQueue)}')`;
