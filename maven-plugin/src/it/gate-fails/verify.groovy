import groovy.json.JsonSlurper

def log = new File(basedir, 'build.log').text
// The compressed model was made (package) and the gate (verify) failed the build naming each metric,
// its bound and the value measured.
assert new File(basedir, 'target/compress/model.onnx').isFile()
assert log.contains('evaluate: quality gate failed: ')
assert log =~ /latency\.b1\.ratio = [0-9.]+ fails gate <= 0\.01/
assert log =~ /size\.ratio = 0\.[0-9]+ fails gate <= 0\.05/
assert log.contains('BUILD FAILURE')
// The report is written either way.
def report = new JsonSlurper().parse(new File(basedir, 'target/compress-evaluation/evaluation.json'))
assert report.passed == false
assert report.gateFailures.size() == 2
assert report.evaluate.gates['size.ratio'] == '<= 0.05'
assert report.metrics['size.ratio'] > 0.05
return true
