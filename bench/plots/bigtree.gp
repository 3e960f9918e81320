# bench/plots/bigtree.gp - big tree, small journal: total recovery time by
# base size at a fixed journal, one line per distribution and recovery,
# the error bars the min-max of the repetitions (uniform solid, other
# distributions dashed).
# gnuplot -c bigtree.gp DATA OUT.png TITLE XTICS XMIN XMAX
# DATA: "series base_keys total_median total_min total_max" lines
# (bench/results.py writes it); XTICS: gnuplot tic list ("10 M" 10000000, ...).
set terminal pngcairo size 860,540 font "DejaVu Sans,10" noenhanced
set output ARG2
set title ARG3
set xlabel "base keys (log scale)"
set ylabel "total recovery seconds (median, bars min-max)"
set logscale x
set xrange [real(ARG5):real(ARG6)]
eval "set xtics (" . ARG4 . ")"
set yrange [0:*]
set grid
set key left top
series = system("awk '!/^#/ {print $1}' " . ARG1 . " | uniq | xargs")
plot for [s in series] sprintf("< awk '$1 == \"%s\"' %s", s, ARG1) using 2:3:4:5 \
       with yerrorlines lw 2 pointsize 1.2 dt 1 + (strstrt(s, "uniform") != 1) title s
