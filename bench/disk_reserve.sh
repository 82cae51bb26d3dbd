#!/usr/bin/env bash
# Disk allocated for small partitions: 12,000 records of 1 KiB over a 10-partition
# topic; prints the data size and the blocks allocated (reserve ahead included).
#   bench/disk_reserve.sh BUILD_DIR
set -euo pipefail
B=$1
D=$(mktemp -d /tmp/sluice-reserve.XXXX)
$B/broker/sluiced --data-dir $D --listen 127.0.0.1:17500 --http 127.0.0.1:17501 --log-level warn 2>$D.log &
P=$!
for i in $(seq 50); do curl -s 127.0.0.1:17501/healthz >/dev/null && break; sleep 0.1; done
$B/tools/sluice --brokers 127.0.0.1:17500 topic create small --partitions 10 >/dev/null
$B/tools/sluice-perf produce --brokers 127.0.0.1:17500 --topic small --records 12000 --record-size 1024 --acks 1 --idempotence false >/dev/null
# sticky partitioning for null keys: the records land unevenly; show per partition sizes and allocation
data=$(du -sk --apparent-size $D | awk '{print $1}'); alloc=$(du -sk $D | awk '{print $1}')
echo "data_kb=$data allocated_kb=$alloc"
kill $P; wait $P
rm -rf $D $D.log
