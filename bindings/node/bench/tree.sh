# bench/tree.sh MARKER: a 200-process job: this shell; 9 subshells with 20 sleeps each; and
# 10 sleeps that left the tree by a double fork (their parent exited, so a walk by parent
# PID cannot find them), as daemons and `cmd &` inside `( )` do.
m=$1
for i in 1 2 3 4 5 6 7 8 9; do
  ( for j in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do sleep 1000 "0.$m" & done; wait ) &
done
for k in 1 2 3 4 5 6 7 8 9 10; do ( sleep 1000 "0.$m" & ) ; done
wait
