"""Voice notes: audio intake, local Whisper transcription, and the notes members keep."""
