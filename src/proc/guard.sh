# The process guard (see guard.ts), run as
#   /bin/sh -c "$(cat guard.sh)" claude-jobs-guard TICKS TOKEN
# TICKS: the grace between SIGTERM and SIGKILL, in 100 ms ticks; TOKEN: the
# parent's owner token. Lines on stdin: +PGID when the parent starts a process
# group, -PGID once it has ended. On EOF (the parent died, or closed the pipe
# on its way out): SIGTERM to the groups still registered and to every process
# whose environment holds CLAUDE_JOBS_OWNER=TOKEN, up to TICKS for them to go,
# then SIGKILL, and exit.
#
# Written for dash (Debian's /bin/sh), also fine in bash and busybox sh.
# `kill -s SIG -- -PGID` signals a group in all three (dash refuses
# `kill -TERM -- -PGID`). INT and HUP are ignored: a Ctrl-C or a hang-up
# meant for the worker's terminal must not end the guard.
trap '' INT HUP PIPE
ticks=$1 token=$2 groups=
while read -r line; do
  case $line in
    +*) groups="$groups ${line#+}" ;;
    -*) gone=${line#-} kept=
        for g in $groups; do [ "$g" = "$gone" ] || kept="$kept $g"; done
        groups=$kept ;;
  esac
done
owned() {
  for f in $(grep -lsxzF -e "CLAUDE_JOBS_OWNER=$token" /proc/[0-9]*/environ 2>/dev/null); do
    p=${f#/proc/}; p=${p%/environ}
    [ "$p" = "$$" ] || echo "$p"
  done
}
# A zombie's environ reads empty, so owned() skips zombies; for the groups,
# the states in /proc/PID/stat tell (an init that never reaps keeps them).
alive() {
  [ -n "$(owned)" ] && return 0
  [ -n "$groups" ] || return 1
  [ -r /proc/self/stat ] || { for g in $groups; do kill -s 0 -- "-$g" 2>/dev/null && return 0; done; return 1; }
  for f in /proc/[0-9]*/stat; do
    read -r s 2>/dev/null <"$f" || continue
    set -- ${s##*\)}
    case $1 in Z|X) continue ;; esac
    for g in $groups; do [ "$3" = "$g" ] && return 0; done
  done
  return 1
}
signal() {
  for g in $groups; do kill -s "$1" -- "-$g" 2>/dev/null; done
  for p in $(owned); do kill -s "$1" "$p" 2>/dev/null; done
}
alive || exit 0
signal TERM
i=0
while alive; do
  if [ "$i" -ge "$ticks" ]; then signal KILL; exit 0; fi
  sleep 0.1 2>/dev/null || sleep 1
  i=$((i + 1))
done
exit 0
