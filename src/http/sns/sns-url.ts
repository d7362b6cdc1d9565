/** `sns.<region>.amazonaws.com`, e.g. `sns.us-east-1.amazonaws.com`, `sns.us-gov-west-1.amazonaws.com`. */
const SNS_HOST = /^sns\.[a-z]{2}(?:-[a-z]+)+-\d{1,2}\.amazonaws\.com$/;

/**
 * The URL when it is an `https://sns.<region>.amazonaws.com/` address (no port,
 * no credentials), else undefined. Certificates and subscription confirmations
 * are fetched only from such addresses.
 */
export function snsUrl(value: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' || url.port !== '' || url.username !== '' || url.password !== '') return undefined;
  return SNS_HOST.test(url.hostname) ? url : undefined;
}
