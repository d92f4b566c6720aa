def out = new File(basedir, 'target/compress')
def first = new Properties()
new File(basedir, 'first-build.properties').withInputStream { first.load(it) }
assert new File(out, 'model.onnx').lastModified() == first.mtime as long
assert new File(out, 'manifest.json').text.md5() == first.manifest
return true
