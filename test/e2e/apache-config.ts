import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * httpd.conf for the end-to-end runs of a real Apache httpd 2.4 (Debian's apache2) as a reverse
 * proxy: its own config file (no /etc/apache2), the event MPM, the modules the edge needs loaded
 * from Debian's module directory, and the combined format with `%D` (the request's time in µs)
 * appended, as Apache's own docs suggest for timing. mod_remoteip takes the client's address from
 * X-Forwarded-For, so `%a` is the address the test's clients claim, as nginx's realip gives.
 */

export const APACHE_MODULES = '/usr/lib/apache2/modules';

export interface ApacheSetup {
  dir: string;
  port: number;
  backendPort: number;
}

export interface ApacheFiles {
  conf: string;
  accessLog: string;
  errorLog: string;
}

/** The combined format with `%D` appended, `%a` (the client after mod_remoteip) in front. */
export const COMBINED_D = '%a %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\" %D';

export function writeApacheConfig(setup: ApacheSetup): ApacheFiles {
  const { dir } = setup;
  const files: ApacheFiles = { conf: join(dir, 'httpd.conf'), accessLog: join(dir, 'access.log'), errorLog: join(dir, 'error.log') };
  // Started as root, httpd serves as www-data: the static files must be readable by it.
  chmodSync(dir, 0o755);
  const modules = ['mpm_event', 'authz_core', 'authz_host', 'alias', 'mime', 'remoteip', 'proxy', 'proxy_http'];
  writeFileSync(files.conf, `ServerRoot "${dir}"
ServerName 127.0.0.1
Listen 127.0.0.1:${setup.port}
PidFile ${join(dir, 'httpd.pid')}
ErrorLog ${files.errorLog}
User www-data
Group www-data
${modules.map((name) => `LoadModule ${name}_module ${APACHE_MODULES}/mod_${name}.so`).join('\n')}
TypesConfig /etc/mime.types
LogFormat "${COMBINED_D}" combined_d
CustomLog ${files.accessLog} combined_d
RemoteIPHeader X-Forwarded-For
RemoteIPInternalProxy 127.0.0.1
LimitRequestBody 1024
DocumentRoot ${dir}
<Directory />
  Require all granted
</Directory>
<Location /admin/>
  Require all denied
</Location>
Redirect 301 /old-home /
Alias /healthz ${join(dir, 'static', 'healthz.txt')}
ProxyPass /api/ http://127.0.0.1:${setup.backendPort}/api/
ProxyPass /favicon.ico http://127.0.0.1:${setup.backendPort}/favicon.ico
`);
  return files;
}
