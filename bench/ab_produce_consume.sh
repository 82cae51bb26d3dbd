#!/usr/bin/env bash
# Interleaved A/B of sluice-perf produce and consume (1 KiB records, acks=1, 256 KiB
# batches, durability=none, one partition, a fresh broker each run, 1 GiB of memory
# warmed before each run): bench/ab_produce_consume.sh OLD_BUILD NEW_BUILD [ROUNDS] [RECORDS]
OLD=$1; NEW=$2; ROUNDS=${3:-6}; RECORDS=${4:-1000000}
out=/tmp/ab.jsonl; : > $out
run() {  # build label
  B=$1; L=$2
  dd if=/dev/zero of=/tmp/ab-warm bs=1M count=1024 status=none; rm -f /tmp/ab-warm
  D=$(mktemp -d /tmp/ab-data.XXXX)
  $B/broker/sluiced --data-dir $D --listen 127.0.0.1:17600 --http 127.0.0.1:17601 --log-level warn 2>$D.log &
  P=$!
  for i in $(seq 100); do curl -s 127.0.0.1:17601/healthz >/dev/null && break; sleep 0.05; done
  $B/tools/sluice --brokers 127.0.0.1:17600 topic create perf --partitions 1 --config durability=none >/dev/null
  p=$($B/tools/sluice-perf --brokers 127.0.0.1:17600 produce --topic perf --records $RECORDS --record-size 1024 --acks 1 --batch-bytes 262144 --linger-ms 5 --json)
  c=$($B/tools/sluice-perf --brokers 127.0.0.1:17600 consume --topic perf --records $RECORDS --json)
  cpu=$(awk '{print ($14+$15)/100}' /proc/$P/stat)
  kill $P; wait $P 2>/dev/null
  rm -rf $D $D.log
  python3 -c "import json,sys; p=json.loads(sys.argv[1]); c=json.loads(sys.argv[2]); print(json.dumps({'build':sys.argv[3],'produce':p['records_per_sec'],'consume':c['records_per_sec'],'broker_cpu_s':float(sys.argv[4])}))" "$p" "$c" $L $cpu >> $out
}
for r in $(seq $ROUNDS); do
  if (( r % 2 )); then run $OLD old; run $NEW new; else run $NEW new; run $OLD old; fi
done
python3 - <<'PY'
import json, statistics
rows=[json.loads(l) for l in open('/tmp/ab.jsonl')]
for b in ('old','new'):
    rs=[r for r in rows if r['build']==b]
    print(b, 'produce median %.0f' % statistics.median(r['produce'] for r in rs), 'consume median %.0f' % statistics.median(r['consume'] for r in rs), 'broker cpu median %.2f' % statistics.median(r['broker_cpu_s'] for r in rs), 'n=%d' % len(rs))
olds=[r for r in rows if r['build']=='old']; news=[r for r in rows if r['build']=='new']
print('produce ratios', ['%.2f' % (n['produce']/o['produce']) for o,n in zip(olds,news)])
print('consume ratios', ['%.2f' % (n['consume']/o['consume']) for o,n in zip(olds,news)])
PY
