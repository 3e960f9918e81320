# bench/plots/scaling.gp - accelerated recovery: speedup over one thread
# by worker threads, one line per size and io backend, with the ideal;
# the error bars span the repetitions (slowest one-thread run over the
# fastest at T, and the other way round).
# gnuplot -c scaling.gp DATA OUT.png MAXTHREADS
# DATA: "series threads speedup total speedup_min speedup_max" lines
# (bench/results.py writes it).
set terminal pngcairo size 760,520 font "DejaVu Sans,10" noenhanced
set output ARG2
set title "Thread scaling of the accelerated recovery"
set xlabel "worker threads"
set ylabel "speedup over 1 thread (median total time; bars: min-max)"
max = real(ARG3)
set xrange [0.8:max + 0.2]
set yrange [0:*]
set xtics 1
set grid
set key left top
series = system("awk '!/^#/ {print $1}' " . ARG1 . " | uniq | xargs")
plot for [s in series] sprintf("< awk '$1 == \"%s\"' %s", s, ARG1) \
       using 2:3:5:6 with yerrorlines lw 2 title s, \
     x with lines dt 2 lc "gray" title "ideal"
