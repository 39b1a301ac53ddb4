// /docs: Swagger UI over the service's own OpenAPI document. The validator badge is off (it
// would load an image from a third-party host, which the CSP forbids and we do not want).
/* global SwaggerUIBundle */
const root = document.getElementById('swagger-ui');
SwaggerUIBundle({
  url: '/api/openapi.json',
  domNode: root,
  validatorUrl: null,
  deepLinking: true,
  tryItOutEnabled: false,
  onComplete: () => root.setAttribute('data-ready', 'true'),
});
