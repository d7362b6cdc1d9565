// Loaded by .mocharc.json before every spec file.
// The specs' S3 servers are s3rver instances, whose fixed credentials these are.
process.env['AWS_ACCESS_KEY_ID'] ??= 'S3RVER';
process.env['AWS_SECRET_ACCESS_KEY'] ??= 'S3RVER';
// Node 20 is supported by the SDK version pinned here; its notice about later versions is noise in test output.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
