# tree.sh MARKER: a job of four processes that carry MARKER in their command lines: this
# shell; a child shell; below it a sleep, and a sleep in a session of its own (setsid).
# Prints "setsid" once the setsid is done and "forked" once both grandchildren exist, so a
# reader that has both lines knows the whole tree is there.
sh -c '
  setsid sh -c "echo setsid; exec sleep 1000 0.$0" "$0" &
  sleep 1000 "0.$0" &
  echo forked
  wait' "$1" &
wait
