#!/bin/sh
# Kiln's step runner: the build container's command (copied into /kiln by `kiln fetch`).
# POSIX sh only: it must run under dash, busybox sh and bash, in any image that has /bin/sh.
# It does what the agent sidecar hands it through the FIFOs in $KILN_DIR and nothing else; it has
# no API token. Protocol: agent/pod-protocol.ts.
K=${KILN_DIR:-/kiln}
W=${KILN_WORKSPACE:-/workspace}
cd "$W" || exit 125

# As a container's PID 1 the runner leads its process group and every step process stays in it
# (a group per step would cost an extra exec per step), while `kubectl exec` shells do not. So
# "stop the steps" means: signal our group, except the runner, its log copier and the stopper.
read -r self </proc/self/stat
set -- ${self##*) }
G=$3

# Signals the steps (Linux /proc and builtins only: nothing to fork while stopping).
stop_steps() {
  for f in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null <"$f" || continue
    pid=${line%% *}
    set -- ${line##*) }
    case " $$ $c $me " in *" $pid "*) continue ;; esac
    # Not leading our group (not PID 1): only the runner's own children are surely steps.
    if [ "$G" = "$$" ]; then [ "$3" = "$G" ] || continue; else [ "$1" = "$$" ] || continue; fi
    kill -s "$sig" "$pid" 2>/dev/null
  done
}

# Every FIFO is opened here, before `ready`: a helper opening one later could find the agent's end
# already closed and block forever.
exec 6<"$K/echo" 7<"$K/ctl"

# Our stdout is the container log (kubectl logs -c build): the agent writes step output back to echo.
cat <&6 6<&- 7<&- &
c=$!

# The stopper: the runner itself is busy waiting for the step, so this helper takes TERM/KILL
# requests from the ctl FIFO for the whole life of the runner.
(
  read -r me </proc/self/stat
  me=${me%% *}
  while read -r sig n; do
    # Marked first, scanned second: a step forked after the scan sees the mark and does not start.
    [ -z "$n" ] || : >"$K/stop.$n"
    stop_steps
  done
) <&7 >/dev/null 2>&1 6<&- 7<&- &
exec 6<&- 7<&-

exec 3<"$K/next" 4>"$K/events"
echo "ready $$" >&4

while read -r cmd a <&3; do
  case $cmd in
  step)
    echo "start $a" >&4
    # We hold the output open too, so the agent sees a writer come and go (its EOF ends the
    # step's output) even if the step dies before it starts.
    exec 5>"$K/out"
    sh -e "$K/steps/$a.sh" </dev/null >&5 2>&1 3<&- 4>&- 5>&-
    rc=$?
    exec 5>&-
    echo "done $a $rc" >&4
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
