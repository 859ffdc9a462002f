# tests/images: the Debian 12 worker root file system built with the image
# recipe (mmdebstrap, needs root and the Debian mirror, SKIPs otherwise), and
# the cloud-init snippet baked into images.
TESTS += tests/images/mmdebstrap.sh
EXTRA_DIST += tests/images/mmdebstrap.sh
