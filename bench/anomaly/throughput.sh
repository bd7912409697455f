#!/usr/bin/env bash
# Throughput of `eval anomaly` on univariate streams (issue 7's >= 100k rows/s): writes FILES generated
# five-minute files of ROWS rows each (daily cycle + noise, one spike per file inside its labelled window)
# under target/anomaly-throughput, then replays them through Sidewinder's detector and prints its report
# (the "rows/s" figure is on the "sidewinder:" line).
#   bash bench/anomaly/throughput.sh            # FILES=8 ROWS=50000
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FILES="${FILES:-8}" ROWS="${ROWS:-50000}"
DIR="$ROOT/target/anomaly-throughput"
rm -rf "$DIR" && mkdir -p "$DIR/data"
echo "{" > "$DIR/labels.json"
for ((f = 0; f < FILES; f++)); do
  awk -v seed="$f" -v rows="$ROWS" -v f="$f" -v labels="$DIR/labels.json" -v last="$((FILES - 1))" 'BEGIN {
      srand(seed + 1); start = 1396000000 + 86400 * f; spike = int(rows * 0.6)
      print "timestamp,value"
      for (i = 0; i < rows; i++) {
        # Box-Muller noise on a daily cycle; a +40 spike at 60 % of the file.
        n = sqrt(-2 * log(1 - rand())) * cos(6.283185307 * rand())
        v = 20 + 5 * sin(6.283185307 * i / 288) + n + (i == spike ? 40 : 0)
        print strftime("%Y-%m-%d %H:%M:%S", start + 300 * i, 1) "," v
      }
      printf "  \"f%d.csv\": [[\"%s.000000\", \"%s.000000\"]]%s\n", f, strftime("%Y-%m-%d %H:%M:%S", start + 300 * (spike - 5), 1),
        strftime("%Y-%m-%d %H:%M:%S", start + 300 * (spike + 5), 1), (f == last ? "" : ",") >> labels
    }' > "$DIR/data/f$f.csv"
done
echo "}" >> "$DIR/labels.json"
"$ROOT/sidewinder" eval anomaly --data "$DIR/data" --labels "$DIR/labels.json" --detector sidewinder --threads "${THREADS:-2}"
