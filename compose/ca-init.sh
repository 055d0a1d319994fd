#!/bin/sh
# The compose dataspace's CA job: a root and an issuing CA in /ca (private: only this job mounts it), and in /pki
# (mounted read-only by the nodes) the trust anchor, the CRLs, and for every node its company certificate (role from
# the fixture) and a TLS server certificate for its service name, localhost and 127.0.0.1.
# Runs once: when /pki/trust/root.pem exists it does nothing. Throwaway demo material: a real dataspace operator
# keeps the CA keys in an HSM/KMS and hands each company only its own files.
set -eu
if [ -f /pki/trust/root.pem ]; then
  echo "dataspace CA already initialised; nothing to do"
  exit 0
fi

# a run interrupted half-way keeps its CA and issues the certificates again
[ -f /ca/root.key ] || connector ca init --dir /ca --name "Compose Battery Dataspace"

connector ca issue --dir /ca --company-id urn:pact:andes-lithium.example:company:andes-lithium --name "Andes Lithium Refining S.A." --role supplier --out /pki/andes-lithium --stem company
connector ca issue --dir /ca --tls-host andes-lithium --tls-host localhost --tls-host 127.0.0.1 --out /pki/andes-lithium --stem tls

connector ca issue --dir /ca --company-id urn:pact:sulawesi-nickel.example:company:sulawesi-nickel --name "Sulawesi Nickel Chemicals PT" --role supplier --out /pki/sulawesi-nickel --stem company
connector ca issue --dir /ca --tls-host sulawesi-nickel --tls-host localhost --tls-host 127.0.0.1 --out /pki/sulawesi-nickel --stem tls

connector ca issue --dir /ca --company-id urn:pact:kansai-precursor.example:company:kansai-precursor --name "Kansai Precursor Materials K.K." --role supplier --out /pki/kansai-precursor --stem company
connector ca issue --dir /ca --tls-host kansai-precursor --tls-host localhost --tls-host 127.0.0.1 --out /pki/kansai-precursor --stem tls

connector ca issue --dir /ca --company-id urn:pact:hokuriku-cathode.example:company:hokuriku-cathode --name "Hokuriku Cathode Co., Ltd." --role supplier --out /pki/hokuriku-cathode --stem company
connector ca issue --dir /ca --tls-host hokuriku-cathode --tls-host localhost --tls-host 127.0.0.1 --out /pki/hokuriku-cathode --stem tls

connector ca issue --dir /ca --company-id urn:pact:inner-graphite.example:company:inner-graphite --name "Inner Graphite Anode Materials Ltd." --role supplier --out /pki/inner-graphite --stem company
connector ca issue --dir /ca --tls-host inner-graphite --tls-host localhost --tls-host 127.0.0.1 --out /pki/inner-graphite --stem tls

connector ca issue --dir /ca --company-id urn:pact:setouchi-cell.example:company:setouchi-cell --name "Setouchi Cell Manufacturing K.K." --role supplier --out /pki/setouchi-cell --stem company
connector ca issue --dir /ca --tls-host setouchi-cell --tls-host localhost --tls-host 127.0.0.1 --out /pki/setouchi-cell --stem tls

connector ca issue --dir /ca --company-id urn:pact:kyushu-pack.example:company:kyushu-pack --name "Kyushu Battery Systems Corp." --role supplier --out /pki/kyushu-pack --stem company
connector ca issue --dir /ca --tls-host kyushu-pack --tls-host localhost --tls-host 127.0.0.1 --out /pki/kyushu-pack --stem tls

connector ca issue --dir /ca --company-id urn:pact:nippon-motors.example:company:nippon-motors --name "Nippon Motors Corporation" --role oem --out /pki/nippon-motors --stem company
connector ca issue --dir /ca --tls-host nippon-motors --tls-host localhost --tls-host 127.0.0.1 --out /pki/nippon-motors --stem tls

connector ca issue --dir /ca --company-id urn:pact:nb.example:company:notified-body-0042 --name "Example Notified Body 0042" --role verifier --country DE --out /pki/notified-body-0042 --stem company
connector ca issue --dir /ca --tls-host notified-body-0042 --tls-host localhost --tls-host 127.0.0.1 --out /pki/notified-body-0042 --stem tls

# the trust anchor and the CRLs every node loads; root.pem last, since its presence means "done"
connector ca crl --dir /ca --out /pki/trust/crl.pem
cp /ca/root-crl.pem /pki/trust/root-crl.pem
cp /ca/root.pem /pki/trust/root.pem
echo "dataspace CA ready: trust anchor /pki/trust/root.pem"
