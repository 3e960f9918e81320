# bench/plots/phases.gp - time per recovery phase, one stacked bar per
# configuration.  gnuplot -c phases.gp DATA OUT.png TITLE
# DATA: a header line "label journal_read sort replay commit", then one
# line per configuration (bench/results.py writes it).
set terminal pngcairo size 900,520 font "DejaVu Sans,10" noenhanced
set output ARG2
set title ARG3
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.6
set key outside right top autotitle columnheader
set ylabel "seconds (median)"
set yrange [0:*]
set grid ytics
set xtics rotate by -30 nomirror
plot for [c=2:5] ARG1 using c:xtic(1)
