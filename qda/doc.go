// Package qda writes and reads the REFI-QDA exchange formats (QDA-XML 1.0),
// so that a team's coded sessions and its codebook move into the
// qualitative-analysis tools researchers already use (NVivo, ATLAS.ti,
// MAXQDA, QualCoder):
//
//   - WriteProject writes a project (.qdpx: a zip of project.qde and
//     Sources/), each recording an AudioSource with its transcript, sync
//     points per turn, the codebook, every tag as a coding, cases for the
//     speakers, variables for the metadata, and the coaches' notes. It
//     streams: the XML is written token by token into the zip and one
//     session is in memory at a time.
//   - WriteCodebook and ReadCodebook write and read a codebook exchange file
//     (.qdc); ReadCodebook also reads the codebook of a project (.qde or
//     .qdpx) another tool wrote.
//
// Every GUID is derived from hark's ids (GUID), so exporting the same data
// twice gives the same files.
package qda
