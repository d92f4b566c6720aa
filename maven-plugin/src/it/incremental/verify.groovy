def log = new File(basedir, 'build.log').text
// One build log holds the four invocations, in order.
def runs = log.split(/(?m)^.*Scanning for projects\.\.\./).findAll { it.contains('BUILD') }
assert runs.size() == 4 : "expected 4 builds, found ${runs.size()}"
assert runs[0].contains('compress: running the pipeline: no previous output')
assert runs[0].contains('compress: compressed in ')
assert runs[1].contains('is up to date (same model (SHA-256 ')
assert runs[1].contains('not recompressing')
assert !runs[1].contains('running the pipeline')
assert runs[1].contains('compress: attached ')
assert runs[2].contains('compress: skipped (compress.skip)')
assert runs[3].contains('compress: running the pipeline: pipeline changed (seed)')
runs.each { assert it.contains('BUILD SUCCESS') }

// What the goal adds to a build: each build's total time, printed for the report.
def total = { String r -> (r =~ /Total time:\s+([0-9.:]+ [a-z]+)/)[0][1] }
def goal = { String r -> (r =~ /compress: (?:compressed|up-to-date check) in ([0-9.]+ s)/)[0][1] }
println "compress IT timing: build 1 (compresses) total ${total(runs[0])}, goal ${goal(runs[0])}"
println "compress IT timing: build 2 (up to date) total ${total(runs[1])}, goal ${goal(runs[1])}"
println "compress IT timing: build 3 (compress.skip) total ${total(runs[2])}"
println "compress IT timing: build 4 (seed changed) total ${total(runs[3])}, goal ${goal(runs[3])}"
return true
