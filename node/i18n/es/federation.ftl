# Federación: páginas /federation y /federation/evidence para la administración nacional.

nav-federation = Federación
action-view_federation = Consultar el estado de la federación y su registro de evidencias
action-manage_federation = Aprobar y bloquear miembros, claves y acuerdos de la federación

## Página principal
fed-title = Federación
fed-lead = Este nodo ({ $me }) forma parte de la federación «{ $federation }». Aquí se ve el manifiesto firmado que tiene, los demás miembros y lo que este nodo decidió sobre ellos, y el estado de los envíos.
fed-evidence-link = Ver el registro de evidencias de la federación
fed-back = Volver a la federación
fed-warning = Atención:
fed-errors-heading = No se hizo ningún cambio
fed-error-not-joined = Este nodo todavía no se unió a una federación: no hay miembros ni acuerdos que aprobar.
fed-this-node = este nodo
fed-never = Nunca
fed-no = No
fed-no-end = Sin fin
fed-next-now = Ahora

## No unido
fed-not-joined-lead = Este nodo ({ $me }) todavía no forma parte de ninguna federación: no envía ni recibe mensajes de otros países.
fed-join-heading = Cómo unirse a una federación
fed-join-intro = Unirse lleva unos pasos en la línea de comandos del servidor, con el archivo de configuración de este nodo (opción --config o variable PUENTE_CONFIG). Ningún paso transmite datos de casos.
fed-join-configure = Configure la federación de este nodo: la sección [federation] de puente.toml indica la dirección de escucha, la dirección pública (punto de acceso) y el certificado TLS propio de la federación. Un nodo nuevo la recibe de puente init:
fed-join-configured = La sección [federation] de este nodo ya está configurada; su punto de acceso es { $endpoint }.
fed-join-member-info = Obtenga la ficha de miembro de este nodo y entréguela a quienes gobiernan la federación. Contiene el punto de acceso, la huella del certificado TLS y las claves públicas de firma; ningún secreto.
fed-join-governance = Quienes gobiernan la federación agregan la ficha al manifiesto y lo firman hasta reunir el número de firmas exigido:
fed-join-join = Reciba anchor.json y manifest.json. Pida la huella del ancla por otro canal (en persona o por teléfono), compárela y únase:
fed-join-fingerprint-hint = El nodo se niega a unirse si la huella indicada no coincide con la del ancla.
fed-join-approve = Apruebe, en esta página o con la línea de comandos, los miembros y acuerdos con los que este nodo intercambiará mensajes (si el servidor se inició antes de configurar la federación, reinícielo):
fed-join-config-hint = Hasta que apruebe a un miembro, este nodo no le envía nada ni acepta nada de él.

## Avisos
fed-freshness-grace-warning = El manifiesto venció el { $expires }. Sigue funcionando durante el período de gracia, hasta el { $until }. Pida a quienes gobiernan la federación una versión nueva.
fed-freshness-expired-warning = El manifiesto venció el { $expires } y el período de gracia terminó el { $until }. Las referencias salientes quedan en espera (en cola) hasta recibir un manifiesto nuevo; el directorio y los mensajes de control siguen circulando.
fed-expires-soon = El manifiesto vence pronto, el { $expires }. Pida a quienes gobiernan la federación una versión nueva.
fed-not-configured = La sección [federation] no está configurada en puente.toml: este nodo no envía ni recibe mensajes de la federación.
fed-not-in-effect = Este servidor todavía aplica decisiones o un manifiesto anteriores a los registrados (por ejemplo, cambios hechos con la línea de comandos hace un instante). Se aplican solos en pocos segundos.
fed-pending-approvals = Falta aprobar { $peers } miembro(s) activo(s) y { $agreements } acuerdo(s) que incluyen a este nodo. Este nodo no intercambia mensajes con ellos hasta aprobarlos.

## Manifiesto
fed-manifest-heading = Manifiesto
fed-manifest-federation = Federación
fed-manifest-version = Versión
fed-manifest-state = Vigencia
fed-manifest-issued = Emitido
fed-manifest-expires = Vence
fed-manifest-grace = Período de gracia
fed-manifest-grace-value = { $days } días, hasta el { $until }
fed-manifest-governance = Gobernanza
fed-manifest-threshold = { $threshold } firmas de { $keys } claves
fed-manifest-signatures = Firmas
fed-manifest-anchor = Huella del ancla de confianza
fed-manifest-installed = Instalado
fed-manifest-installed-value = { $at } (origen: { $source })
fed-node-endpoint = Punto de acceso de este nodo
fed-node-listen = escucha en { $listen }
fed-node-not-configured = No configurado
fed-freshness-fresh = Vigente
fed-freshness-grace = Vencido, en período de gracia
fed-freshness-expired = Vencido

## Miembros y claves
fed-members-heading = Miembros
fed-members-hint = Los miembros que lista el manifiesto. Este nodo solo intercambia mensajes con los que aprobó y no bloqueó. Un bloqueo se aplica de inmediato, diga lo que diga el manifiesto.
fed-col-member = Miembro
fed-col-role = Función
fed-col-status = Estado
fed-col-endpoint = Punto de acceso
fed-col-approved = Aprobado aquí
fed-col-blocked = Bloqueado aquí
fed-col-last-contact = Último contacto
fed-col-actions = Acciones
fed-role-node = Nodo nacional
fed-role-hub = Nodo regional (hub)
fed-member-status-active = Activo
fed-member-status-suspended = Suspendido
fed-member-status-revoked = Revocado
fed-approved = Aprobado
fed-approved-by = por { $by }, { $at }
fed-not-approved = Sin aprobar
fed-blocked = Bloqueado
fed-blocked-by = por { $by }, { $at }
fed-blocked-reason = Motivo: { $reason }
fed-approve = Aprobar
fed-block = Bloquear…
fed-block-reason = Motivo del bloqueo
fed-block-reason-hint = Obligatorio. Queda en el registro de auditoría.
fed-block-submit = Bloquear ahora
fed-unblock = Desbloquear
fed-keys-heading = Claves de firma
fed-keys-hint = Cada mensaje lleva la firma de una clave de su miembro. Bloquee una clave que sepa comprometida sin esperar a que el manifiesto la revoque.
fed-keys-empty = El manifiesto no lista claves de firma.
fed-col-key = Clave
fed-col-valid-from = Válida desde
fed-col-valid-until = Válida hasta
fed-key-valid = Válida
fed-key-revoked = Revocada en el manifiesto
fed-key-not-valid-now = Fuera de su período de validez
fed-blocks-heading = Bloqueos de este nodo
fed-blocks-empty = Este nodo no bloqueó ningún miembro ni clave.
fed-col-subject = Miembro o clave
fed-col-kind = Tipo
fed-col-reason = Motivo
fed-col-blocked-by = Bloqueado por
fed-col-blocked-at = Fecha
fed-block-kind-peer = Miembro
fed-block-kind-key = Clave de firma
fed-block-any = Bloquear otro miembro o clave
fed-block-subject-hint = El código del miembro (HND) o de la clave (HND-2026a), aunque el manifiesto no la liste.
fed-field-subject = Miembro o clave
fed-field-reason = Motivo del bloqueo
fed-field-kind = Tipo de aprobación

## Acuerdos
fed-agreements-heading = Acuerdos
fed-agreements-hint = Un acuerdo permite un tipo de mensajes entre sus miembros. Este nodo solo lo aplica después de aprobarlo aquí.
fed-agreements-empty = El manifiesto no tiene acuerdos.
fed-col-agreement = Acuerdo
fed-col-members = Miembros
fed-agreement-kind-directory = Directorio de servicios
fed-agreement-kind-referral = Referencias de casos
fed-agreement-kind-stats = Estadísticas
fed-agreement-hub = Las estadísticas van a { $hub }.
fed-agreement-not-mine = Este nodo no participa.

## Envíos
fed-delivery-heading = Envíos por miembro y canal
fed-delivery-hint = Lo que este nodo tiene pendiente de enviar a cada miembro. Tras un fallo, reintenta con esperas crecientes; cuando el miembro se comunica, reintenta de inmediato.
fed-delivery-empty = Todavía no hay envíos: se crean cuando este nodo tiene algo que enviar a un miembro aprobado.
fed-col-peer = Miembro
fed-col-channel = Canal
fed-col-backlog = Pendientes
fed-col-failures = Fallos seguidos
fed-col-last-error = Último error
fed-col-last-success = Último envío correcto
fed-col-next-attempt = Próximo intento
fed-channel-directory = Directorio
fed-channel-referral = Referencias
fed-channel-stats = Estadísticas
fed-channel-control = Control

## Problemas
fed-problems-heading = Mensajes con problemas
fed-problems-hint = Solo se muestran identificadores, posiciones y motivos, nunca el contenido de los mensajes. Un mensaje rechazado no se vuelve a enviar; uno rehusado se reintenta.
fed-problems-out-heading = Enviados por este nodo
fed-problems-out-empty = Ningún miembro rechazó ni rehusó mensajes de este nodo.
fed-problems-in-heading = Recibidos por este nodo
fed-problems-in-empty = Ningún mensaje recibido fue rechazado ni falló al procesarse.
fed-col-message = Mensaje
fed-col-to = Destino
fed-col-from = Origen
fed-col-epoch = Época
fed-col-seq = Nº en el flujo
fed-col-message-kind = Tipo de mensaje
fed-col-created = Creado
fed-col-received = Recibido
fed-outbox-refused = Rehusado, se reintenta
fed-outbox-status-pending = Pendiente
fed-outbox-status-acked = Confirmado
fed-outbox-status-rejected = Rechazado
fed-inbox-status-stored = Guardado, por procesar
fed-inbox-status-rejected = Rechazado
fed-inbox-status-processed = Procesado
fed-inbox-status-failed = Falló al procesarse

## Flujos
fed-streams-heading = Flujos de mensajes
fed-streams-hint = Cada flujo numera sus mensajes sin huecos y encadena cada uno con el anterior. Al comparar con el otro miembro, los últimos números y huellas deben coincidir.
fed-streams-in-heading = Entrantes (lo recibido de cada miembro)
fed-streams-in-empty = Todavía no se recibió ningún mensaje.
fed-streams-out-heading = Salientes (lo enviado a cada miembro)
fed-streams-out-empty = Todavía no se envió ningún mensaje.
fed-col-head-seq = Último nº
fed-col-head-hash = Huella del último
fed-col-last-seq = Último nº asignado
fed-col-consumed-seq = Confirmado hasta
fed-col-outstanding = Sin confirmar

## Motivos (códigos del protocolo y de los envíos)
fed-reason-too_large = Mensaje demasiado grande
fed-reason-malformed = Formato no válido
fed-reason-wrong_destination = Dirigido a otro nodo
fed-reason-unknown_origin = El origen no es miembro
fed-reason-origin_not_active = El origen está suspendido o revocado
fed-reason-origin_mismatch = El origen no coincide con el certificado TLS
fed-reason-peer_blocked = Miembro bloqueado por el destino
fed-reason-peer_not_approved = Miembro aún no aprobado por el destino
fed-reason-kind_not_allowed = Ningún acuerdo permite este tipo de mensaje
fed-reason-unknown_key = Clave de firma desconocida
fed-reason-key_not_valid = Clave de firma fuera de su período de validez
fed-reason-key_revoked = Clave de firma revocada
fed-reason-key_blocked = Clave de firma bloqueada por el destino
fed-reason-future_dated = Fecha en el futuro (revise la hora de los servidores)
fed-reason-bad_signature = Firma no válida
fed-reason-stale_epoch = Época anterior a la actual
fed-reason-duplicate_id = Identificador de mensaje ya recibido en otra posición
fed-reason-gap = Faltan mensajes anteriores en el flujo
fed-reason-fork = Flujo bifurcado: otro mensaje ya ocupa esa posición
fed-reason-manifest_rollback = Manifiesto más antiguo que el vigente
fed-reason-manifest_conflict = Manifiesto distinto con la misma versión
fed-reason-manifest_expired = Manifiesto vencido
fed-reason-manifest_signatures = Manifiesto sin las firmas exigidas
fed-reason-wrong_federation = Manifiesto de otra federación
fed-reason-unreachable = El miembro no responde
fed-reason-no_endpoint = No se puede contactar al miembro con el punto de acceso del manifiesto
fed-reason-ack_mismatch = La confirmación no corresponde a lo enviado
fed-reason-payload_malformed = Contenido con formato no válido
fed-reason-payload_invalid = Contenido con datos no válidos
fed-reason-payload_too_large = Contenido demasiado grande
fed-reason-own_origin = El mensaje dice venir de este mismo nodo
fed-reason-bad_ack = Confirmación ilegible
fed-reason-refused = Rehusado
fed-reason-superseded = Reemplazado por un envío de una época nueva
fed-reason-no_body = Sin contenido
fed-reason-invalid_payload = Contenido no válido
fed-reason-unknown_kind = Tipo de mensaje desconocido
fed-reason-http = El miembro respondió con el estado HTTP { $status }
fed-reason-other = Otro motivo

## Registro de evidencias
fed-evidence-title = Registro de evidencias de la federación
fed-evidence-intro = Cada mensaje y cada confirmación que este nodo envía o recibe queda anotado aquí con la huella exacta de sus bytes, encadenado con la anotación anterior y sellado una vez al día con la firma de este nodo. No contiene el contenido de los mensajes.
fed-evidence-intact = Cadena íntegra: { $entries } anotaciones y { $seals } sellos verificados.
fed-evidence-broken = ¡Registro alterado!
fed-evidence-broken-missing = Falta la anotación { $expected } (se encontró la { $found }).
fed-evidence-broken-unlinked = La anotación { $seq } no está encadenada con la anterior.
fed-evidence-broken-altered = La anotación { $seq } fue modificada: su huella no coincide con su contenido.
fed-evidence-broken-seal-mismatch = El sello del { $day } cubre la anotación { $seq }, que no existe o tiene otra huella.
fed-evidence-broken-seal-signature = El sello del { $day } no está firmado con una clave de este nodo.
fed-evidence-entries-heading = Anotaciones
fed-evidence-order-descending = De la más reciente a la más antigua; { $head } en total.
fed-evidence-order-ascending = De la más antigua a la más reciente; { $head } en total.
fed-evidence-empty = El registro de evidencias está vacío.
fed-evidence-ack = Confirmación
fed-evidence-earlier = Anteriores
fed-evidence-later = Posteriores
fed-evidence-newest = Las más recientes
fed-evidence-oldest = Desde el principio
fed-col-entry = Nº
fed-col-time = Fecha y hora
fed-col-direction = Qué
fed-col-object-hash = Huella del objeto
fed-direction-sent = Mensaje enviado
fed-direction-received = Mensaje recibido
fed-direction-ack_sent = Confirmación enviada
fed-direction-ack_received = Confirmación recibida
fed-direction-refused_in = Mensaje recibido rehusado
fed-direction-refused_out = Mensaje enviado rehusado
fed-seals-heading = Sellos diarios
fed-seals-hint = Cada sello firma la huella de la última anotación del día; quien tenga la clave pública de este nodo puede comprobarlo.
fed-seals-empty = Todavía no hay sellos.
fed-seals-more = Se muestran los { $shown } sellos más recientes de { $total }.
fed-col-day = Día
fed-col-through-seq = Hasta la anotación
fed-col-root = Huella sellada
fed-col-sealed-at = Sellado

## Errores y avisos de los formularios
msg-field-fed_not_member = No es un miembro del manifiesto.
msg-field-fed_not_agreement = No es un acuerdo del manifiesto.
msg-field-fed_not_subject = No es el código de un miembro (HND) ni de una clave (HND-2026a).
msg-field-fed_not_blocked = No está bloqueado.
msg-notice-federation_peer_approved = Miembro aprobado. Este nodo intercambia mensajes con él según los acuerdos aprobados.
msg-notice-federation_agreement_approved = Acuerdo aprobado: ya se aplica.
msg-notice-federation_blocked = Bloqueo aplicado de inmediato.
msg-notice-federation_unblocked = Bloqueo levantado.
