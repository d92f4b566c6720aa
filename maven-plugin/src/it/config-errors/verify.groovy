def log = new File(basedir, 'build.log').text
assert log.contains("compress: the pipeline configuration has 3 problems")
assert log.contains("<passes>[0].type: unknown pass 'rtn-quantisation'")
assert log.contains("did you mean 'rtn-quantization'?")
assert log.contains("<passes>[1].bitz: unknown key; did you mean 'bits'?")
assert log.contains("<passes>[1].symmetric must be true or false, found 'yes'")
// A configuration error, reported before anything ran: nothing was written.
assert !new File(basedir, 'target/compress').exists()
assert log.contains('MojoFailureException')
return true
