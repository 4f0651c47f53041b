# Puente — cadenas de la interfaz web (español, idioma principal).
# Solo variables simples; sin funciones ni selectores.

## Estructura general

skip-to-content = Saltar al contenido principal
title-error-prefix = Error:
nav-label = Menú principal
nav-home = Inicio
nav-orgs = Organizaciones
nav-users = Usuarios
nav-roles = Roles
nav-tokens = Tokens de API
nav-audit = Auditoría
nav-account = Mi cuenta
logout = Cerrar sesión
language-label = Idioma:
language-es = Español
language-en = English
footer-note = Puente: coordinación segura para la asistencia a víctimas de trata de personas.
form-has-errors = Revise los campos marcados y vuelva a intentarlo.

## Botones y palabras comunes

save = Guardar cambios
cancel = Cancelar
continue = Continuar
yes = Sí
no = No
never = Nunca
allowed = Permitido
not-allowed = No permitido

## Campos

field-username = Nombre de usuario
field-password = Contraseña
field-display-name = Nombre completo
field-role = Rol
field-org = Organización
field-current-password = Contraseña actual
field-new-password = Contraseña nueva
field-confirm-password = Confirme la contraseña nueva
field-totp-code = Código de verificación
field-org-code = Código
field-org-name = Nombre
field-org-type = Tipo de organización
field-org-active = Organización activa
field-token-name = Nombre del token
field-expires-days = Validez (días)

## Columnas y estados

col-status = Estado
col-users = Usuarios
col-created = Creación
col-last-login = Último acceso
col-totp = Verificación en dos pasos
col-prefix = Prefijo
col-owner = Titular
col-expires = Vencimiento
col-last-used = Último uso
col-actions = Acciones
col-action = Acción
status-active = Activo
status-inactive = Inactivo
status-disabled = Deshabilitado
status-locked = Bloqueado
status-revoked = Revocado
status-expired = Vencido
org-none = Sin organización

## Roles

role-node_admin = Administración nacional
role-org_admin = Coordinación de organización
role-caseworker = Gestor(a) de casos
role-analyst = Analista
role-auditor = Auditoría

## Tipos de organización

org-type-NGO = ONG
org-type-LAW_ENFORCEMENT = Fuerzas de seguridad / policía
org-type-HEALTH_SERVICE = Servicio de salud
org-type-CENTRAL_GOVERNMENT = Gobierno central
org-type-LOCAL_GOVERNMENT = Gobierno local
org-type-IMMIGRATION_SERVICE = Servicio de migración
org-type-LEGAL_SERVICE = Servicio legal
org-type-CORPORATE_BUSINESS = Empresa
org-type-SCHOOL_OR_COLLEGE = Centro educativo
org-type-INTERNATIONAL_ORG = Organización internacional

## Acciones (página de roles)

action-view_home = Ver la página de inicio
action-manage_own_account = Gestionar la propia cuenta
action-manage_own_tokens = Gestionar los propios tokens de API
action-view_orgs = Ver organizaciones
action-manage_orgs = Crear y modificar organizaciones
action-view_users = Ver usuarios
action-manage_users = Crear y modificar usuarios
action-assign_node_roles = Asignar roles de administración nacional
action-revoke_any_token = Revocar cualquier token de API
action-view_audit = Consultar el registro de auditoría
action-view_roles = Ver roles y permisos
action-view_cases = Ver los casos de su organización
action-edit_cases = Registrar y actualizar casos
action-reassign_cases = Reasignar casos dentro de la organización
action-override_consent = Registrar sin consentimiento, con motivo escrito
action-export_cases = Exportar casos
action-import_cases = Importar casos
action-view_case_index = Ver el índice nacional de casos, sin datos de identidad
action-break_glass = Abrir la identidad de un caso con motivo escrito (acceso de emergencia)

## Resultados de auditoría

outcome-success = Correcto
outcome-failure = Fallido
outcome-denied = Denegado

## Inicio de sesión

login-title = Iniciar sesión
login-intro = Ingrese el nombre de usuario y la contraseña asignados por su organización.
login-submit = Iniciar sesión
login-help = Si no recuerda la contraseña o la cuenta está bloqueada, comuníquese con la coordinación de su organización.
totp-title = Verificación en dos pasos
totp-intro = Abra la aplicación de autenticación del teléfono e ingrese el código de 6 dígitos que muestra.
totp-code-hint = Código de 6 dígitos o, si no tiene el teléfono, uno de los códigos de recuperación.
totp-submit = Verificar
totp-cancel = Cancelar e iniciar sesión de nuevo

## Página de inicio

home-title = Bienvenida
home-greeting = Hola, { $name }.
home-role = Rol: { $role }.
home-role-org = Rol: { $role }, en { $org }.
home-shortcuts = Accesos directos
home-cases-desc = Registrar casos, buscar a una persona, seguir la asistencia y los procesos judiciales.
home-orgs-desc = Organizaciones registradas en el país y su estado.
home-users-desc = Cuentas de usuario, roles y accesos.
home-roles-desc = Qué puede hacer cada rol.
home-tokens-desc = Claves para conectar otros sistemas mediante la API.
home-audit-desc = Registro de todas las acciones realizadas en el sistema.
home-account-desc = Contraseña y verificación en dos pasos.

## Mi cuenta

account-title = Mi cuenta
account-password-heading = Contraseña
account-password-desc = Cambie la contraseña periódicamente y cada vez que sospeche que otra persona pudo conocerla.
account-password-link = Cambiar contraseña
account-totp-heading = Verificación en dos pasos
account-totp-on = Activada
account-totp-off = Desactivada
account-totp-desc = Protege la cuenta con un código del teléfono además de la contraseña. Se recomienda activarla.
account-totp-enrol-link = Activar la verificación en dos pasos
account-totp-reenrol-link = Configurar otro teléfono
account-recovery-left = Códigos de recuperación disponibles: { $count }
account-recovery-low = Quedan pocos códigos de recuperación. Configure de nuevo la verificación en dos pasos para obtener códigos nuevos.
account-notice-email-heading = Correo electrónico para avisos
account-notice-email-desc = Si indica una dirección, Puente le envía un correo cuando recibe un aviso nuevo. El correo solo dice qué tipo de aviso es y trae el enlace a sus avisos: nunca nombres, números de caso ni otros datos de las personas.
account-notice-email-current = Los avisos se envían a:
account-notice-email-none = No recibe avisos por correo.
account-notice-email-hint = Use una dirección de trabajo. Para dejar de recibir avisos por correo, elimínela.
account-notice-email-save = Guardar dirección
account-notice-email-remove = Eliminar dirección
account-notice-email-off = Los avisos por correo electrónico no están configurados en este nodo. Sus avisos se ven en la página «Avisos».
field-notice-email = Correo electrónico para avisos
mail-notice-subject = Puente: tiene un aviso nuevo

## Cambio de contraseña

password-title = Cambiar contraseña
password-forced = Antes de continuar, es necesario cambiar la contraseña temporal por una personal.
password-rules = Use una frase larga, fácil de recordar y que no use en ningún otro sitio.
password-submit = Cambiar contraseña

## Activación de la verificación en dos pasos

enrol-title = Activar la verificación en dos pasos
enrol-required = El rol asignado exige la verificación en dos pasos. Actívela para continuar.
enrol-replaces = Ya hay un teléfono configurado. Al completar estos pasos, el anterior dejará de funcionar.
enrol-step-app = Instale una aplicación de autenticación
enrol-step-app-desc = Por ejemplo, Aegis, FreeOTP, Google Authenticator o Microsoft Authenticator.
enrol-step-scan = Escanee el código QR
enrol-qr-alt = Código QR para la aplicación de autenticación
enrol-secret-label = Si no puede escanearlo, ingrese esta clave manualmente:
enrol-step-confirm = Ingrese el código que muestra la aplicación
enrol-code-hint = Código de 6 dígitos. Cambia cada 30 segundos.
enrol-submit = Activar

## Códigos de recuperación

recovery-title = Códigos de recuperación
recovery-once = Estos códigos se muestran una sola vez. Guárdelos ahora en un lugar seguro.
recovery-desc = Cada código sirve una sola vez para iniciar sesión si pierde el teléfono. Anótelos en papel o guárdelos en un gestor de contraseñas; no los comparta.

## Organizaciones

orgs-title = Organizaciones
orgs-list-heading = Organizaciones registradas
orgs-empty = Todavía no hay organizaciones registradas.
orgs-create-heading = Registrar una organización
orgs-create-submit = Crear organización
org-code-hint = Identificador corto y único de la organización, sin espacios.
org-title = Organización
org-edit-heading = Modificar datos
org-active-hint = Desmarque la casilla para desactivar la organización.
back-to-orgs = Volver a organizaciones

## Usuarios

users-title = Usuarios
users-list-heading = Cuentas de usuario
users-empty = Todavía no hay usuarios.
users-create-heading = Crear un usuario
users-create-desc = Se generará una contraseña temporal que la persona deberá cambiar al iniciar sesión por primera vez.
users-create-submit = Crear usuario
username-hint = El nombre con el que la persona iniciará sesión. Evite tildes y espacios.
user-title = Usuario
back-to-users = Volver a usuarios
user-must-change = Debe cambiar la contraseña
user-temp-password-heading = Contraseña temporal
user-temp-password-hint = Se muestra una sola vez. Entréguela a la persona en mano o por un canal seguro, nunca por correo electrónico ni en un grupo de mensajería. Deberá cambiarla al iniciar sesión.
user-role-heading = Rol y organización
user-role-submit = Guardar rol y organización
user-security-heading = Seguridad de la cuenta
user-reset-password = Restablecer contraseña
user-reset-password-desc = Genera una contraseña temporal nueva; la actual deja de funcionar.
user-reset-totp = Restablecer verificación en dos pasos
user-reset-totp-desc = Elimina el teléfono configurado, por ejemplo si se perdió o se lo robaron. La persona deberá configurarlo de nuevo.
user-disable = Deshabilitar cuenta
user-disable-desc = Impide que la persona inicie sesión. La cuenta se puede volver a habilitar.
user-enable = Habilitar cuenta
user-enable-desc = La cuenta está deshabilitada. Habilitarla permite volver a iniciar sesión.
user-tokens-heading = Tokens de API de este usuario

## Roles y permisos

roles-title = Roles y permisos
roles-intro = Acciones que permite cada rol en este nodo.
roles-caption = Permisos por rol

## Tokens de API

tokens-title = Tokens de API
tokens-intro = Los tokens permiten que otros sistemas se conecten a Puente en nombre de una cuenta. Trátelos como contraseñas.
tokens-new-heading = Token nuevo
tokens-new-once = Copie este token ahora: no se volverá a mostrar.
tokens-list-heading = Tokens existentes
tokens-empty = No hay tokens de API.
tokens-revoke = Revocar
tokens-revoke-named = Revocar el token { $name }
tokens-revoked-at = Revocado el { $date }
tokens-create-heading = Crear un token
tokens-name-hint = Para qué sistema o uso es, por ejemplo: Informe mensual.
tokens-expires-hint = Entre 1 y 365 días.
tokens-create-submit = Crear token

## Auditoría

audit-title = Registro de auditoría
audit-intro = Acciones realizadas en este nodo. El registro está protegido contra alteraciones mediante puntos de control firmados.
audit-checkpoint = Último punto de control firmado: entrada { $seq }, { $at } (clave { $key }).
audit-no-checkpoint = Todavía no hay puntos de control firmados.
audit-filter-heading = Filtrar
audit-filter-actor = Usuario
audit-filter-action = Acción
audit-filter-outcome = Resultado
audit-filter-from = Desde
audit-filter-to = Hasta
audit-filter-submit = Aplicar filtros
audit-filter-clear = Quitar filtros
audit-any = Cualquiera
audit-entries-heading = Entradas
audit-empty = No hay entradas que coincidan con los filtros.
audit-col-seq = N.º
audit-col-at = Fecha y hora
audit-col-actor = Usuario
audit-col-org = Organización
audit-col-action = Acción
audit-col-target = Objeto
audit-col-outcome = Resultado
audit-col-ip = Dirección IP
pager-label = Paginación
pager-prev = Página anterior
pager-next = Página siguiente
pager-page = Página { $page }

## Errores

error-title = Error { $status }
error-home = Volver al inicio
