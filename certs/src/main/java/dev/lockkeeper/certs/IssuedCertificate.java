package dev.lockkeeper.certs;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/** A leaf certificate and its private key. */
public record IssuedCertificate(X509Certificate certificate, PrivateKey privateKey) {}
