export function createSystemActivities(names: () => string[]) {
  return {
    async describeWorker(): Promise<{ pid: number; activities: string[] }> {
      return { pid: process.pid, activities: names() };
    },
  };
}
