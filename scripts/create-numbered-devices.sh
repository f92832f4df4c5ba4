#!/bin/sh

device_count=100
device_group='room2-lights'
device_prefix='test-device-'
device_name_file='./device_names.txt'
prov_secret_file='./prov_secret.txt'

set -e

# Device group creation (skip if group is already created).
# Provision secret is stored in the specified file.
iotactl add group "${device_group}" > "${prov_secret_file}"

j=1
while [ $j -le $device_count ]; do
        device_name="${device_prefix}${j}"
        # Individual device creation in the specified device group.
        # Device name is appended to the specified file.
        iotactl add device -g "${device_group}" "${device_name}"
        echo "${device_name}" >> "${device_name_file}"
        j=$(( j + 1 ))
done
