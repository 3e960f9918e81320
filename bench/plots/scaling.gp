# bench/plots/scaling.gp - accelerated recovery: speedup over one thread
# by worker threads, one line per size and io backend, with the ideal.
# gnuplot -c scaling.gp DATA OUT.png MAXTHREADS
# DATA: "series threads speedup total" lines (bench/results.py writes it).
set terminal pngcairo size 760,520 font "DejaVu Sans,10" noenhanced
set output ARG2
set title "Thread scaling of the accelerated recovery"
set xlabel "threads"
set ylabel "speedup over 1 thread (median total time)"
max = real(ARG3)
set xrange [0.8:max + 0.2]
set yrange [0:max + 0.5]
set xtics 1
set grid
set key left top
series = system("awk '!/^#/ {print $1}' " . ARG1 . " | uniq | xargs")
plot for [s in series] sprintf("< awk '$1 == \"%s\"' %s", s, ARG1) using 2:3 \
       with linespoints lw 2 title s, \
     x with lines dt 2 lc "gray" title "ideal"
