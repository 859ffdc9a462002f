# src/bootstrap: the SSH bootstrapper (non-blocking libssh2 sessions on the
# daemon's libuv loop), host key verification, and the renderer of the node's
# site configuration (SSH upload and cloud-init user-data share it).
src_libcbshell_la_SOURCES += \
	src/bootstrap.c src/bootstrap.h \
	src/ssh_session.c src/ssh_session.h src/ssh_session_int.h \
	src/ssh_channel.c src/ssh_sftp.c src/ssh_steps.c \
	src/ssh_hostkey.c src/ssh_hostkey.h \
	src/userdata.c src/userdata.h
# base64 and SHA-256 (cloud-init encoding, host key fingerprints) come from libcrypto.
src_libcbshell_la_LIBADD += $(CRYPTO_LIBS)
