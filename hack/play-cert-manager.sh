#!/usr/bin/env bash
# Plays cert-manager's CA issuer where its controller does not run (the dev
# cluster of hack/devcluster, which has cert-manager's CRDs but no
# controllers), as the integration tests do:
#
#   hack/play-cert-manager.sh ready-issuer NAMESPACE ISSUER
#       set the Issuer's Ready condition, as cert-manager does once it has
#       read the CA
#   hack/play-cert-manager.sh issue NAMESPACE CERTIFICATE CA_DIR [DAYS]
#       issue the Certificate: a P-256 key and a certificate for its
#       spec.dnsNames signed by CA_DIR/ca.crt and CA_DIR/ca.key, written to
#       its spec.secretName with ca.crt and cert-manager's annotations; then
#       Ready, notBefore, notAfter and renewalTime (2/3 through) in its status
#
# Needs kubectl (or $KUBECTL), openssl and jq.
set -euo pipefail
kubectl=${KUBECTL:-kubectl}
now=$(date -u +%FT%TZ)

case ${1:-} in
ready-issuer)
	ns=$2 issuer=$3
	$kubectl patch issuer.cert-manager.io -n "$ns" "$issuer" --subresource status --type merge -p \
		"{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KeyPairVerified\",\"message\":\"Signing CA verified\",\"lastTransitionTime\":\"$now\"}]}}" >/dev/null
	echo "Issuer $ns/$issuer is Ready"
	;;
issue)
	ns=$2 name=$3 ca=$4 days=${5:-90}
	cert=$($kubectl get certificate.cert-manager.io -n "$ns" "$name" -o json)
	secret=$(jq -r .spec.secretName <<<"$cert")
	dns=$(jq -r '.spec.dnsNames | join(",")' <<<"$cert")
	san=$(jq -r '.spec.dnsNames | map("DNS:" + .) | join(",")' <<<"$cert")
	cn=$(jq -r '.spec.commonName // .spec.dnsNames[0]' <<<"$cert")
	issuer=$(jq -r .spec.issuerRef.name <<<"$cert")
	kind=$(jq -r '.spec.issuerRef.kind // "Issuer"' <<<"$cert")
	generation=$(jq -r .metadata.generation <<<"$cert")
	revision=$(jq -r '(.status.revision // 0) + 1' <<<"$cert")
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$cn" -keyout "$tmp/tls.key" -out "$tmp/tls.csr" 2>/dev/null
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' "$san" >"$tmp/ext"
	openssl x509 -req -in "$tmp/tls.csr" -CA "$ca/ca.crt" -CAkey "$ca/ca.key" -CAcreateserial -CAserial "$tmp/ca.srl" \
		-days "$days" -extfile "$tmp/ext" -out "$tmp/tls.crt" 2>/dev/null
	$kubectl create secret tls "$secret" -n "$ns" --cert "$tmp/tls.crt" --key "$tmp/tls.key" --dry-run=client -o json |
		jq --arg ca "$(base64 -w0 <"$ca/ca.crt")" --arg name "$name" --arg issuer "$issuer" --arg kind "$kind" --arg dns "$dns" \
			'.data["ca.crt"] = $ca | .metadata.annotations = {"cert-manager.io/certificate-name": $name, "cert-manager.io/issuer-name": $issuer,
			  "cert-manager.io/issuer-kind": $kind, "cert-manager.io/issuer-group": "cert-manager.io", "cert-manager.io/alt-names": $dns}' |
		$kubectl apply --server-side --force-conflicts --field-manager cert-manager-certificates-issuing -f - >/dev/null
	from=$(date -u -d "$(openssl x509 -in "$tmp/tls.crt" -noout -startdate | cut -d= -f2)" +%s)
	until=$(date -u -d "$(openssl x509 -in "$tmp/tls.crt" -noout -enddate | cut -d= -f2)" +%s)
	notBefore=$(date -u -d "@$from" +%FT%TZ)
	notAfter=$(date -u -d "@$until" +%FT%TZ)
	renewal=$(date -u -d "@$((from + (until - from) * 2 / 3))" +%FT%TZ)
	$kubectl patch certificate.cert-manager.io -n "$ns" "$name" --subresource status --type merge -p \
		"{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"Ready\",\"message\":\"Certificate is up to date and has not expired\",\"lastTransitionTime\":\"$now\",\"observedGeneration\":$generation}],\"notBefore\":\"$notBefore\",\"notAfter\":\"$notAfter\",\"renewalTime\":\"$renewal\",\"revision\":$revision}}" >/dev/null
	echo "issued Certificate $ns/$name into secret $secret: valid until $notAfter, renewal at $renewal"
	;;
*)
	sed -n '2,17p' "$0" >&2
	exit 2
	;;
esac
