import groovy.json.JsonSlurper
import java.security.MessageDigest

def sha256(File f) {
    def md = MessageDigest.getInstance('SHA-256')
    f.withInputStream { s -> byte[] b = new byte[1 << 20]; int n; while ((n = s.read(b)) > 0) md.update(b, 0, n) }
    md.digest().encodeHex().toString()
}

def log = new File(basedir, 'build.log').text
def out = new File(basedir, 'target/compress')
def manifest = new JsonSlurper().parse(new File(out, 'manifest.json'))
def model = new File(out, 'model.onnx')

assert model.isFile()
// DJL's INFO lines and its CUDA probe's warning stay out of the build log (LibraryLogs)
assert !log.contains('Failed to detect GPU count')
assert !log.contains('Found matching platform')
assert manifest.pipeline.model == 'builtin:all-minilm-l6-v2'
assert manifest.pipeline.passes[0].type == 'rtn-quantization'
assert manifest.pipeline.passes[0].bits == 8
assert manifest.passes[0].layersTouched.size() > 0
assert manifest.passes[0].bytesAfter < manifest.passes[0].bytesBefore
assert manifest.output.sha256 == sha256(model)
assert manifest.input.sha256 ==~ /[0-9a-f]{64}/
assert manifest.evaluation.gateFailures.isEmpty()
assert manifest.evaluation.metrics['cosine.mean'] >= 0.98
// int8 weights: well under half the original's bytes
assert manifest.evaluation.metrics['size.ratio'] < 0.5

// Installed with its classifier into the IT local repository.
def repo = new File(localRepositoryPath, 'dev/compress/it/minilm-int8/1.0')
def installed = new File(repo, 'minilm-int8-1.0-compressed.onnx')
assert installed.isFile() : "not installed: $installed"
assert sha256(installed) == manifest.output.sha256
assert new File(repo, 'minilm-int8-1.0-compressed-manifest.json').isFile()
assert new File(repo, 'minilm-int8-1.0.jar').isFile()

// The gate ran in verify, reusing the evaluation compress recorded, and wrote its report.
assert log.contains('compress: running the pipeline: no previous output')
assert log.contains('evaluate: reusing the evaluation recorded in')
assert log.contains('evaluate: all 1 gates passed')
def report = new JsonSlurper().parse(new File(basedir, 'target/compress-evaluation/evaluation.json'))
assert report.passed == true
assert report.metrics['cosine.mean'] >= 0.98
def table = new File(basedir, 'target/compress-evaluation/evaluation.txt').text
assert table.contains('cosine')
// The side-by-side table is printed once: by compress, which measured; evaluate reused it.
def firstLine = table.readLines().find { !it.isBlank() }
assert log.count(firstLine) == 1 : "the table's first line '$firstLine' appears ${log.count(firstLine)} times"
assert log.contains('evaluate: the side-by-side table is above (printed by the compress goal)')
return true
