#!/bin/sh

device_group='room2-lights'
device_name_file='./device_names.txt'
prov_secret_file='./prov_secret.txt'

set -e

# Device group creation (skip if group is already created).
# Provision secret is stored in the specified file.
iotactl add group "${device_group}" > "${prov_secret_file}"

grep '.' "${device_name_file}" | while IFS= read -r DEVICE_NAME; do
    # Individual device creation in the specified device group.
    iotactl add device -g "${device_group}" "${DEVICE_NAME}"
done
