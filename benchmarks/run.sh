#!/usr/bin/env bash
# Runs one benchmark scenario (echo, fanout, idle, storm, detect, flood, chat, cluster, resume) or JMH (jmh [JMH options]).
# Loopback only; every scenario stops by itself. Results go to docs/benchmarks/.
#   benchmarks/run.sh echo --reps=3
#   benchmarks/run.sh cluster --reps=3      (needs redis-server on the PATH; starts its own)
#   benchmarks/run.sh resume --reps=3       (issue 13: echo, fan-out and a reconnect storm, resume off and on;
#                                            --cluster=true --parts=echo,fanout: the same in cluster mode, Redis journal)
#   benchmarks/run.sh jmh -f 1 -wi 3 -i 5
set -euo pipefail
cd "$(dirname "$0")/.."

# Scenario 3 holds 10,000 connections: each end of each needs a file descriptor.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

if [ ! -d benchmarks/node/node_modules ]; then
  (cd benchmarks/node && npm ci --no-audit --no-fund)
fi
if [ -z "${SKIP_BUILD:-}" ]; then
  ./mvnw -q -B -pl benchmarks -am package -DskipTests
fi
# Run from a snapshot of this build, so that a rebuild while a long scenario runs cannot pull
# classes or the library jar from under it.
SNAP="benchmarks/target/snapshot-$(date +%s)-$$"
mkdir -p "$SNAP/lib"
cp -r benchmarks/target/classes "$SNAP/classes"
CP="$SNAP/classes"
IFS=: read -r -a ENTRIES < benchmarks/target/classpath.txt || true
for entry in "${ENTRIES[@]}"; do
  case "$entry" in
    "$PWD"/*) cp "$entry" "$SNAP/lib/" && CP="$CP:$SNAP/lib/$(basename "$entry")" ;;
    *) CP="$CP:$entry" ;;
  esac
done

scenario="${1:?usage: run.sh echo|fanout|idle|storm|detect|flood|chat|cluster|resume|jmh [options]}"
shift
if [ "$scenario" = jmh ]; then
  exec java -cp "$CP" org.openjdk.jmh.Main "$@"
fi
NETNS=()
if [ "$scenario" = fanout ]; then
  # The fan-out scenario runs in its own network namespace (loopback only) whose TCP send buffers are
  # capped (default 128 KiB instead of 4 MiB): otherwise the kernel absorbs megabytes per stalled client
  # before any server notices it, more than the load driver can push through 1,000 clients in a run.
  ip netns list | grep -qw rwsbench || { ip netns add rwsbench && ip netns exec rwsbench ip link set lo up; }
  ip netns exec rwsbench sysctl -q -w net.ipv4.tcp_wmem="4096 16384 ${FANOUT_WMEM_MAX:-131072}"
  NETNS=(ip netns exec rwsbench)
fi
exec "${NETNS[@]}" java -Xms2g -Xmx6g -XX:+UseG1GC -Dbench.dir=benchmarks -Dbench.server.jvm="${BENCH_SERVER_JVM:-}" -cp "$CP" io.resilientws.benchmarks.Main "$scenario" "$@"
