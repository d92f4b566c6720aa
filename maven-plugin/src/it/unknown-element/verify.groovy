def log = new File(basedir, 'build.log').text
assert log.contains("compress: <evalute> in the plugin's <configuration> is not a parameter of compress-maven-plugin; did you mean <evaluate>?")
// Reported before anything ran: nothing was written.
assert !new File(basedir, 'target/compress').exists()
assert !log.contains('compress: running the pipeline')
return true
