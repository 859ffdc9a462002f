# images: the node side. The node scripts (bootstrap, lease check) are installed
# under $(pkgdatadir)
# (bootstrap.script_dir defaults there); the image recipes, the cloud-init
# snippet they bake in and their README ship in the tarball for admins.
dist_pkgdata_SCRIPTS = images/cloudburst-bootstrap.sh images/cloudburst-lease-check
EXTRA_DIST += images/README.md images/build-debian12-rootfs.sh \
	images/virt-customize-worker.sh images/90-cloudburst.cfg
