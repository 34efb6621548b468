#!/bin/sh
# Kiln's step runner: the build container's command (copied into /kiln by `kiln fetch`).
# POSIX sh only: it must run under dash, busybox sh and bash, in any image that has /bin/sh.
# It does what the agent sidecar hands it through the FIFOs in $KILN_DIR and nothing else; it has
# no API token. Protocol: agent/pod-protocol.ts.
K=${KILN_DIR:-/kiln}
W=${KILN_WORKSPACE:-/workspace}
cd "$W" || exit 125

# A step gets its own session, so a timeout or cancel can signal everything it started.
S=
if command -v setsid >/dev/null 2>&1; then S=setsid; fi

# Our stdout is the container log (kubectl logs -c build): the agent writes step output back to echo.
cat "$K/echo" &
c=$!
exec 3<"$K/next" 4>"$K/events"
echo "ready $$" >&4

while read -r cmd a b <&3; do
  case $cmd in
  step)
    (
      exec 3<&-
      $S sh -e "$K/steps/$a.sh" </dev/null >"$K/out" 2>&1 4>&- &
      p=$!
      echo "start $a $p" >&4
      wait "$p" 2>/dev/null
      rc=$?
      # A step ends with its shell: whatever it left running in the background is stopped.
      if [ -n "$S" ]; then kill -s TERM -- "-$p" 2>/dev/null; fi
      echo "done $a $rc" >&4
    ) &
    ;;
  kill)
    kill -s "$b" -- "-$a" 2>/dev/null || kill -s "$b" "$a" 2>/dev/null
    ;;
  exit)
    exec 3<&- 4>&-
    wait "$c"
    exit "$a"
    ;;
  esac
done
# The agent went away without saying goodbye.
exit 125
