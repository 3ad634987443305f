import { buildWorkflowBundle } from '../src/worker/bundle';

buildWorkflowBundle(process.argv[2]).then(
  (file) => console.log(`workflow bundle written to ${file}`),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
