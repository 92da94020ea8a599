package hark

import (
	"path"
	"strings"
)

// audioTypes are the media types of the recordings hark takes, by name
// ending: what a browser needs to play one, and what the store keeps.
var audioTypes = map[string]string{
	".wav": "audio/wav", ".wave": "audio/wav", ".rf64": "audio/wav", ".bw64": "audio/wav",
	".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".mp4": "video/mp4", ".aac": "audio/aac",
	".3gp": "audio/3gpp", ".ogg": "audio/ogg", ".oga": "audio/ogg", ".opus": "audio/ogg",
	".flac": "audio/flac", ".wma": "audio/x-ms-wma", ".amr": "audio/amr", ".webm": "audio/webm",
	".mkv": "video/x-matroska", ".mka": "audio/x-matroska", ".mov": "video/quicktime",
	".avi": "video/x-msvideo", ".aiff": "audio/aiff", ".aif": "audio/aiff",
}

// AudioContentType is the media type of a recording named name, by its
// ending: audio/wav for a WAV, audio/mpeg for an MP3 and so on, and
// application/octet-stream for a name hark does not know (the content is
// still told by its bytes when it is transcribed).
func AudioContentType(name string) string {
	if t, ok := audioTypes[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	return "application/octet-stream"
}
