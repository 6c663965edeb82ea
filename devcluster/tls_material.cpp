#include "tls_material.h"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "llmops/common/base64.h"

namespace llmops::devcluster {

namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("OpenSSL: cannot ") + what);
}

KeyPtr newKey() {
  KeyPtr key(EVP_EC_gen("P-256"));
  check(key != nullptr, "generate an EC key");
  return key;
}

void addExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  check(extension != nullptr, "build a certificate extension");
  X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
}

CertPtr newCertificate(EVP_PKEY* key, const char* commonName, X509* issuer, EVP_PKEY* issuerKey,
                       bool isCa, const std::string& subjectAltNames = "") {
  CertPtr cert(X509_new());
  check(cert != nullptr, "allocate a certificate");
  X509_set_version(cert.get(), 2);
  BIGNUM* serial = BN_new();
  BN_rand(serial, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get()));
  BN_free(serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(commonName), -1, -1, 0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (isCa) {
    addExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    addExtension(cert.get(), signer, NID_key_usage,
                 "critical,keyCertSign,cRLSign,digitalSignature");
    addExtension(cert.get(), signer, NID_subject_key_identifier, "hash");
  } else {
    addExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    addExtension(cert.get(), signer, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    addExtension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    addExtension(cert.get(), signer, NID_subject_alt_name, subjectAltNames.c_str());
    addExtension(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
  }
  check(X509_sign(cert.get(), issuerKey ? issuerKey : key, EVP_sha256()) > 0, "sign a certificate");
  return cert;
}

std::string certificatePem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  return pem;
}

std::string keyPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  return pem;
}

void writeFileAtomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + tmp);
  }
  std::filesystem::permissions(
      tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::filesystem::rename(tmp, path);
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string randomToken() {
  unsigned char bytes[24];
  check(RAND_bytes(bytes, sizeof(bytes)) == 1, "draw random bytes");
  static const char* kDigits = "0123456789abcdef";
  std::string token;
  for (unsigned char b : bytes) {
    token.push_back(kDigits[b >> 4]);
    token.push_back(kDigits[b & 15]);
  }
  return token;
}

// 127.0.0.1 and localhost, plus the listen address when it is another IP (as a real API
// server's certificate carries its advertise address).
std::string subjectAltNames(const std::string& listenHost) {
  std::string names = "IP:127.0.0.1,DNS:localhost";
  unsigned char ip[16];
  if (listenHost != "127.0.0.1" && listenHost != "0.0.0.0" &&
      (inet_pton(AF_INET, listenHost.c_str(), ip) == 1 ||
       inet_pton(AF_INET6, listenHost.c_str(), ip) == 1)) {
    names += ",IP:" + listenHost;
  }
  return names;
}

// Whether the server certificate in `pem` is valid for `host` (an IP), as a client checks.
bool certificateCovers(const std::string& pem, const std::string& host) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  CertPtr cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return cert && X509_check_ip_asc(cert.get(), host.c_str(), 0) == 1;
}

KeyPtr readKey(const std::string& path) {
  const std::string pem = readFile(path);
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  KeyPtr key(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  check(key != nullptr, ("read the key " + path).c_str());
  return key;
}

CertPtr readCertificate(const std::string& path) {
  const std::string pem = readFile(path);
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  CertPtr cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  check(cert != nullptr, ("read the certificate " + path).c_str());
  return cert;
}

}  // namespace

TlsMaterial ensureTlsMaterial(const std::string& dataDir, const std::string& listenHost) {
  namespace fs = std::filesystem;
  fs::create_directories(dataDir);
  TlsMaterial material{dataDir + "/ca.crt", dataDir + "/server.crt", dataDir + "/server.key", ""};
  const std::string tokenPath = dataDir + "/token";
  const std::string names = subjectAltNames(listenHost);
  if (!fs::exists(material.caCertificatePath) || !fs::exists(material.serverCertificatePath) ||
      !fs::exists(material.serverKeyPath)) {
    KeyPtr caKey = newKey();
    CertPtr ca = newCertificate(caKey.get(), "llmops-devcluster-ca", nullptr, nullptr, true);
    KeyPtr serverKey = newKey();
    CertPtr server =
        newCertificate(serverKey.get(), "llmops-devcluster", ca.get(), caKey.get(), false, names);
    writeFileAtomically(dataDir + "/ca.key", keyPem(caKey.get()));
    writeFileAtomically(material.serverKeyPath, keyPem(serverKey.get()));
    writeFileAtomically(material.serverCertificatePath,
                        certificatePem(server.get()) + certificatePem(ca.get()));
    writeFileAtomically(material.caCertificatePath, certificatePem(ca.get()));
  } else if (names.find(",IP:") != std::string::npos &&
             !certificateCovers(readFile(material.serverCertificatePath), listenHost) &&
             fs::exists(dataDir + "/ca.key")) {
    // Listening somewhere new: a new server certificate from the same CA, so that every
    // kubeconfig written before still verifies.
    KeyPtr caKey = readKey(dataDir + "/ca.key");
    CertPtr ca = readCertificate(material.caCertificatePath);
    KeyPtr serverKey = newKey();
    CertPtr server =
        newCertificate(serverKey.get(), "llmops-devcluster", ca.get(), caKey.get(), false, names);
    writeFileAtomically(material.serverKeyPath, keyPem(serverKey.get()));
    writeFileAtomically(material.serverCertificatePath,
                        certificatePem(server.get()) + certificatePem(ca.get()));
  }
  if (!fs::exists(tokenPath)) writeFileAtomically(tokenPath, randomToken() + "\n");
  material.token = readFile(tokenPath);
  while (!material.token.empty() &&
         std::isspace(static_cast<unsigned char>(material.token.back()))) {
    material.token.pop_back();
  }
  if (material.token.empty()) throw std::runtime_error(tokenPath + " is empty");
  return material;
}

void writeKubeconfig(const std::string& dataDir, const TlsMaterial& material,
                     const std::string& host, int port) {
  std::ostringstream out;
  out << "apiVersion: v1\n"
      << "kind: Config\n"
      << "clusters:\n"
      << "- name: llmops-devcluster\n"
      << "  cluster:\n"
      << "    server: https://" << host << ":" << port << "\n"
      << "    certificate-authority-data: " << base64_encode(readFile(material.caCertificatePath))
      << "\n"
      << "users:\n"
      << "- name: llmops-devcluster-admin\n"
      << "  user:\n"
      << "    token: " << material.token << "\n"
      << "contexts:\n"
      << "- name: llmops-devcluster\n"
      << "  context:\n"
      << "    cluster: llmops-devcluster\n"
      << "    user: llmops-devcluster-admin\n"
      << "    namespace: default\n"
      << "current-context: llmops-devcluster\n";
  writeFileAtomically(dataDir + "/kubeconfig", out.str());
}

}  // namespace llmops::devcluster
