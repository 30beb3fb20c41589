"""The local stack: emulators, fake Cloud KMS, fake TikTok, and the functions behind one port."""
