#!/usr/bin/env bash
# The cost of idle partitions: starts sluiced on a fresh data directory, creates
# PARTITIONS partitions (topics of at most 10,000) with the given topic settings,
# and prints the broker's RSS, threads and disk use before and after.
#   bench/idle_partitions.sh BUILD_DIR PARTITIONS [key=value ...]
#   bench/idle_partitions.sh build/default 10000
#   bench/idle_partitions.sh build/default 100 durability=interval
set -euo pipefail
B=$1; N=$2; shift 2
D=$(mktemp -d /tmp/sluice-idle.XXXX)
$B/broker/sluiced --data-dir $D --listen 127.0.0.1:17400 --http 127.0.0.1:17401 --log-level warn 2>$D.log &
P=$!
for i in $(seq 50); do curl -s 127.0.0.1:17401/healthz >/dev/null && break; sleep 0.1; done
before=$(grep VmRSS /proc/$P/status | awk '{print $2}')
cfg=(); for c in "$@"; do cfg+=(--config "$c"); done
left=$N; t=0
start=$(date +%s.%N)
while (( left > 0 )); do n=$(( left > 10000 ? 10000 : left )); $B/tools/sluice --brokers 127.0.0.1:17400 topic create t$t --partitions $n "${cfg[@]}" >/dev/null || echo create failed; left=$((left-n)); t=$((t+1)); done
end=$(date +%s.%N)
sleep 1
after=$(grep VmRSS /proc/$P/status | awk '{print $2}')
threads=$(ls /proc/$P/task | wc -l)
disk=$(du -sk $D | awk '{print $1}')
echo "partitions=$N cfg=[$*] rss_before_kb=$before rss_after_kb=$after per_partition_kb=$(( (after-before)/N )) threads=$threads disk_kb=$disk create_s=$(awk "BEGIN{print $end - $start}")"
kill $P; wait $P
rm -rf $D $D.log
