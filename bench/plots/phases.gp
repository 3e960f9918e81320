# bench/plots/phases.gp - time per recovery phase, one stacked bar per
# configuration: the phases of the repetition whose total is the median
# (so the bar adds up to that total), and over it the min-max of the
# repetitions' totals.  gnuplot -c phases.gp DATA OUT.png TITLE
# DATA: a header line "label superblock journal_read sort replay commit
# total total_min total_max", then one line per configuration
# (bench/results.py writes it).
set terminal pngcairo size 960,560 font "DejaVu Sans,10" noenhanced
set output ARG2
set title ARG3
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.6
set key outside right top autotitle columnheader
set xlabel "configuration (reference, or T = worker threads and the read backend)"
set ylabel "seconds (the median run's phases; bar: min-max total)"
set yrange [0:*]
set grid ytics
set xtics rotate by -30 nomirror
plot for [c=2:6] ARG1 using c:xtic(1), \
     ARG1 using 0:7:8:9 with yerrorbars lc "black" pt 7 ps 0.6 \
       title "total, min-max of the runs"
