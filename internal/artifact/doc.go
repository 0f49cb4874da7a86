// Package artifact stores pipeline artifacts and unpacks archives safely.
//
// # Stores
//
// [Store] is the one interface every artifact store implements. An object is
// addressed as {bucket, key}, like the CodePipeline model's
// S3ArtifactLocation{bucketName, objectKey}, and every write records the
// object's size and SHA-256. Two implementations exist:
//
//   - [FSStore], the default, keeps objects as plain files under
//     <data-dir>/artifacts/<bucket>/<key> (see [NewFSStore]).
//   - [S3Store] keeps them in any S3-compatible object store through
//     aws-sdk-go-v2's S3 client (see [S3Config]).
//
// Bucket names follow the S3 naming rules and keys must be relative,
// slash-separated paths without empty, "." or ".." segments or NUL bytes
// ([ValidateBucket], [ValidateKey]); both stores reject anything else with an
// error that wraps [ErrInvalidName]. A missing object is reported with an
// error that wraps [ErrNotFound].
//
// Pipeline artifacts are laid out per pipeline: [NewArtifactKey] returns
// <pipeline>/<artifact>/<random id>, so [PipelinePrefix] lists or deletes
// all of one pipeline's artifacts.
//
// # Archives
//
// Artifacts are zip files. [Zip] writes a directory as a deterministic zip
// (sorted entries, fixed timestamps, file modes and in-tree symlinks kept).
// [Extract] unpacks a zip and [ExtractTar] a tar or gzip-compressed tar
// (CodeDeploy bundles may be any of the three). Both refuse, with an
// [*EntryError] naming the entry, anything that could write outside the
// destination directory: ".." segments (zip-slip), absolute paths, Windows
// drive letters and backslashes, symlinks whose target resolves outside
// the destination, hard links to anything but a file extracted earlier,
// writes through symlinks, device files, FIFOs and sockets. [Limits] caps the
// number of entries and the uncompressed bytes against zip bombs.
package artifact
