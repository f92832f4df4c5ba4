#!/bin/sh
# Installs iotad from this unpacked release folder into a root filesystem: the running system
# (--root /) or an image being built (--root ./rootfs). Never overwrites /etc/iotad/config.json
# unless told to (--replace-config).
# The agent runs as the system user iotad, created here (in the root's own /etc/passwd) if missing.
#
# usage: ./install.sh --root DIR [--init auto|systemd|openrc|sysv|none] [--config FILE [--replace-config]] [--enable]
#   --root DIR     the root filesystem to install into (required, "/" for this machine)
#   --init KIND    which service files to install (auto: systemd unit always, plus the OpenRC
#                  script if DIR has openrc, else the SysV script; none: only the program)
#   --config FILE  install FILE as DIR/etc/iotad/config.json (root:iotad 0640), e.g. from iotactl gen config;
#                  a config already there is kept (and said so) unless --replace-config is given
#   --replace-config
#                  with --config: replace an existing DIR/etc/iotad/config.json (for another device's
#                  config, clear DIR/var/lib/iotad too: iotad refuses another device's certificate)
#   --enable       enable the service at boot (systemd or OpenRC; for SysV see the script's header)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=""
init=auto
config=""
enable=0
replace_config=0

die() { echo "install.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
		--root) [ $# -ge 2 ] || die "--root needs a folder"; root=$2; shift 2 ;;
		--init) [ $# -ge 2 ] || die "--init needs one of auto, systemd, openrc, sysv, none"; init=$2; shift 2 ;;
		--config) [ $# -ge 2 ] || die "--config needs a file"; config=$2; shift 2 ;;
		--enable) enable=1; shift ;;
		--replace-config) replace_config=1; shift ;;
		-h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
		*) die "unknown argument '$1' (try --help)" ;;
	esac
done
[ -n "$root" ] || die "--root DIR is required (use --root / for this machine)"
[ -d "$root" ] || die "--root $root is not a folder"
case "$init" in auto|systemd|openrc|sysv|none) ;; *) die "--init must be auto, systemd, openrc, sysv or none, not '$init'" ;; esac
[ -z "$config" ] || [ -f "$config" ] || die "--config $config is not a file"
[ "$replace_config" = 0 ] || [ -n "$config" ] || die "--replace-config needs --config FILE"
[ -x "$here/bin/iotad" ] || die "$here/bin/iotad is missing: run install.sh from the unpacked release folder"
root=$(cd "$root" && pwd)
[ "$root" = "/" ] && root=""

put() { # put MODE SOURCE DEST: copy SOURCE to $root/DEST with MODE, creating folders
	mkdir -p "$root$(dirname "$3")"
	cp "$2" "$root$3.iotad-new"
	chmod "$1" "$root$3.iotad-new"
	mv -f "$root$3.iotad-new" "$root$3"
	echo "  $3"
}

# Looks the user up in the root's own files, not through this machine's name service.
field() { awk -F: -v name="$2" -v n="$3" '$1 == name { print $n }' "$root/etc/$1" 2>/dev/null; }

ensure_user() {
	[ -n "$(field passwd iotad 1)" ] && return 0
	[ -f "$root/etc/passwd" ] || die "$root/etc/passwd is missing: --root must be a root filesystem with its users"
	shell=/bin/false
	for s in /usr/sbin/nologin /sbin/nologin; do [ ! -x "$root$s" ] || { shell=$s; break; }; done
	if command -v useradd >/dev/null 2>&1; then
		# Hint: --root makes useradd write the image's /etc/passwd, /etc/group and /etc/shadow.
		useradd ${root:+--root "$root"} --system --user-group --home-dir /var/lib/iotad --no-create-home \
			--shell "$shell" --comment "IoTA device agent" iotad || die "useradd could not create the user iotad"
	elif [ -z "$root" ] && command -v adduser >/dev/null 2>&1; then
		# BusyBox (Alpine): a system group and a system user without a home or password.
		addgroup -S iotad && adduser -S -D -H -h /var/lib/iotad -s "$shell" -G iotad -g "IoTA device agent" iotad ||
			die "adduser could not create the user iotad"
	else
		die "cannot create the user iotad in ${root:-/}: install useradd (Debian: passwd) on this machine"
	fi
	echo "  user iotad"
}

echo "Installing iotad into ${root:-/}"
put 0755 "$here/bin/iotad" /usr/bin/iotad
[ ! -f "$here/lib/iotad/iotad.mjs" ] || put 0644 "$here/lib/iotad/iotad.mjs" /usr/lib/iotad/iotad.mjs
ensure_user
uid=$(field passwd iotad 3)
gid=$(field passwd iotad 4)
mkdir -p "$root/etc/iotad"
chown "0:$gid" "$root/etc/iotad" && chmod 0750 "$root/etc/iotad"
put 0644 "$here/config.example.json" /etc/iotad/config.example.json
put 0644 "$here/config.md" /usr/share/doc/iotad/config.md
if [ -n "$config" ] && [ -e "$root/etc/iotad/config.json" ] && [ "$replace_config" = 0 ]; then
	if cmp -s "$config" "$root/etc/iotad/config.json"; then
		echo "  /etc/iotad/config.json (already this config)"
	else
		echo "install.sh: ${root:-}/etc/iotad/config.json is there already and is kept, not replaced by $config;" \
			"to replace it, run again with --replace-config (and clear ${root:-}/var/lib/iotad for another device)" >&2
	fi
elif [ -n "$config" ]; then
	put 0640 "$config" /etc/iotad/config.json
elif [ ! -e "$root/etc/iotad/config.json" ]; then
	echo "  (no /etc/iotad/config.json: write one with iotactl gen config, see /usr/share/doc/iotad/config.md)"
fi
# The config and the files it names hold the device's credential: root writes them, the agent reads them.
for file in "$root"/etc/iotad/*; do
	if [ -f "$file" ] && [ ! -L "$file" ]; then chown "0:$gid" "$file" && chmod 0640 "$file"; fi
done
mkdir -p "$root/var/lib/iotad"
chown -R "$uid:$gid" "$root/var/lib/iotad" && chmod 0700 "$root/var/lib/iotad"

if [ "$init" = auto ]; then
	if [ -x "$root/sbin/openrc-run" ] || [ -x "$root/usr/sbin/openrc-run" ]; then init=openrc; else init=sysv; fi
	put 0644 "$here/systemd/iotad.service" /usr/lib/systemd/system/iotad.service
fi
case "$init" in
	systemd) put 0644 "$here/systemd/iotad.service" /usr/lib/systemd/system/iotad.service ;;
	openrc) put 0755 "$here/openrc/iotad" /etc/init.d/iotad ;;
	sysv) put 0755 "$here/sysv/iotad" /etc/init.d/iotad ;;
esac

if [ "$enable" = 1 ]; then
	if [ -f "$root/usr/lib/systemd/system/iotad.service" ] && { [ -d "$root/etc/systemd" ] || [ "$init" = systemd ]; }; then
		mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
		ln -sf /usr/lib/systemd/system/iotad.service "$root/etc/systemd/system/multi-user.target.wants/iotad.service"
		echo "  enabled: /etc/systemd/system/multi-user.target.wants/iotad.service"
	fi
	if [ "$init" = openrc ]; then
		mkdir -p "$root/etc/runlevels/default"
		ln -sf /etc/init.d/iotad "$root/etc/runlevels/default/iotad"
		echo "  enabled: /etc/runlevels/default/iotad"
	fi
	[ "$init" != sysv ] || echo "  SysV: link /etc/init.d/iotad into your rc folders, or add the inittab line from its header"
fi
echo "Done. Check the config with: iotad check-config --config /etc/iotad/config.json"
