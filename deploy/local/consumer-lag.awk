# The consumer lag of one service from its /metrics text, per consumer group (a service may run
# several, e.g. notifier and notifier-board): "<group> <records>[ (<topic>[<partition>]=<records> ...)], ..."
# Used by `services.sh status` (`make status`); "0" when the service consumes nothing.
BEGIN { FS = "[{}]" }
/^onewindow_consumer_lag\{/ {
  count = split($2, labels, ",")
  group = topic = partition = ""
  for (i = 1; i <= count; i++) {
    split(labels[i], kv, "=")
    gsub(/"/, "", kv[2])
    if (kv[1] == "group") group = kv[2]
    else if (kv[1] == "topic") topic = kv[2]
    else if (kv[1] == "partition") partition = kv[2]
  }
  lag = $3 + 0
  if (!(group in total)) { order[++groups] = group; total[group] = 0 }
  total[group] += lag
  if (lag > 0) busy[group] = busy[group] " " topic "[" partition "]=" lag
}
END {
  if (!groups) { print "0"; exit }
  line = ""
  for (i = 1; i <= groups; i++) {
    group = order[i]
    line = line (i > 1 ? ", " : "") group " " total[group] (busy[group] != "" ? " (" substr(busy[group], 2) ")" : "")
  }
  print line
}
